"""A design session: config, run directory, executors, the loop, progress and the report."""
