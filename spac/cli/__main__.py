"""``python -m spac.cli`` (and ``accelerate launch -m spac.cli caption ...`` for multi-GPU captioning)."""

from spac.cli import main

main()
