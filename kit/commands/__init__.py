"""One module per CLI verb; each imports its heavy machinery only when it runs."""
