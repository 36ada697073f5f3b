"""Stage 6, findings: every number a brief prints, chosen from the protected tables, with its
source cell. Disclosure control is decided here, once.
"""
