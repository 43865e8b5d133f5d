"""Benchmarks: figures that are printed, never asserted (tests must not time things)."""
