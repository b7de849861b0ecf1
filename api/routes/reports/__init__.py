"""Downloadable diagnostic reports: the same report as CSV, or as a one-page PDF."""
