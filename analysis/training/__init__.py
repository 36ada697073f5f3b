"""Stage 4b, training: pre/post knowledge tests of a training."""
