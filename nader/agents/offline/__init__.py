"""The offline designer: answers every agent task without a network (see :mod:`.designer`)."""
