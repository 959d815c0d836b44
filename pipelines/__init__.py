"""Named runs: Python functions returning typed configs (not an installed package)."""
