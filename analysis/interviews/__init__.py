"""Stage 4c, interviews: theme tables, inter-coder reliability and the de-identified quote bank."""
