"""Benchmarks that print measured figures (and ratios against a baseline of the same run).

May import: everything below it (``api``, ``auth``, ``db``); nothing imports it.
"""
