"""Imports in GraphQL: ``resultImport(id:)``, ``resultImports`` and the node lookup.

May import: ``api.schema.imports``, the shared resolvers, ``api.context``, ``api.errors``,
``auth`` and ``db`` (``db.imports``).
"""
