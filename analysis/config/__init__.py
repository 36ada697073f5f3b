"""What the user declares, checked before any rule runs: the analysis plan, its derived-variable
expressions and model formulas (parsed, never run), and the config against the plan.
"""
