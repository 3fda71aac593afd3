"""Benchmark harnesses behind `python -m bot bench …` (the arguments are in bot/cli/bench.py)."""
