"""Benchmarks: figures for decisions, run by hand (see bench/README.md), never part of the tests."""
