"""The ``nader`` command line; one module per command."""
