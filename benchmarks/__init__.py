"""Benchmarks behind ``blowback bench``: figures measured side by side in one run."""
