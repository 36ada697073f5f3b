"""Stage 3, clean: types, missing codes, labels, derived variables, keyed pseudonyms and redacted
free text.
"""
