"""Downloadable diagnostic reports: the same report as CSV, or as a one-page PDF.

May import: the insights resolvers and types they render, ``api.context``, ``api.errors``,
``auth`` and ``db``.
"""
