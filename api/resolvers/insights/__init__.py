"""Resolvers of insights: the diagnostic, cohorts, dashboards.

May import: the types they return (``api.schema``), the shared resolvers, ``api.context``,
``api.errors``, ``api.audit``, ``auth`` and ``db``.
"""
