"""Resolvers of insights: the diagnostic, cohorts, dashboards.

May import: the types they return (``api.schema``), the shared resolvers, the network
resolvers (training centers near the employer), ``api.context``, ``api.errors``, ``api.audit``,
``api.settings``, ``auth`` and ``db``.
"""
