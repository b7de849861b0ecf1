"""Data and rules: every table, and the functions that read and change them.

The root holds what every part shares: ``models`` (every table) on ``base`` (the naming
convention), ``earth`` (the geometry a table is built on), ``errors`` (rule failures) and
``access`` (row entitlement as SQL predicates). One package per part of the registry:
``registry``, ``network``, ``events``, ``insights``, ``imports``, ``catalog``, ``platform``,
``demo``;
``migrations`` stays where Alembic expects it.

Functions add and flush; the caller owns the transaction. ``db`` imports neither ``auth`` nor
``api``; the root modules import no package of ``db``; the packages import each other only
downwards: demo, insights and imports, registry, network and events, platform, catalog
(checked by the import-linter contracts in pyproject.toml).

May import: nothing outside ``db`` but third-party libraries.
"""
