"""Stage 5, figures: the house style, one figure per model, and the figures the briefs show."""
