"""Resolvers of the center network: the locator, center administration, instructors, proctors.

May import: the types they return (``api.schema``), the shared resolvers, ``api.context``,
``api.errors``, ``auth`` and ``db``.
"""
