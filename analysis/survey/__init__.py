"""Stage 4a, survey estimation: designs, design-based estimates, models, replicate weights,
calibration, ratios and quantiles, and trends between waves.
"""
