"""Imports in GraphQL: ``resultImport(id:)``, ``resultImports`` and the node lookup."""
