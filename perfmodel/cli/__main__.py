"""`python -m perfmodel.cli`: the same as the `perfmodel` command."""

from perfmodel.cli import main

main()
