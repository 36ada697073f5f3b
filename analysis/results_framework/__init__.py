"""Stage 4d, results framework: a programme's indicators against their targets."""
