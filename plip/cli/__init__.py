"""plip command-line entry points (one module per command)."""
