"""Resolvers of the registry: posting results, candidates, credentials, consent, the audit trail.

May import: the types they return (``api.schema``), the shared resolvers (``arguments``,
``loaders``), ``api.context``, ``api.errors``, ``api.permissions``, ``auth`` and ``db``.
"""
