"""What makes ``dotkit verify`` fast, kept apart from the rules it speeds up:
the per-app memo of the last run and the store of JavaScript analyses."""
