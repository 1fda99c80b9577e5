"""``python -m nader`` is the same as the ``nader`` command."""

from nader.cli.main import main

raise SystemExit(main())
