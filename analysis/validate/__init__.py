"""Stage 2, validate: codebooks (load, draft, check), each wave against its codebook, and the
plausibility guard between waves.
"""
