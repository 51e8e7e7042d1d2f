"""`python -m semsearch` runs the CLI."""

from .cli import main

main()
