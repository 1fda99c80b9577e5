"""Benchmarks: the paper's NAD design benchmark and an equal-budget search benchmark."""
