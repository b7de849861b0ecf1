"""The ``mssc`` command line: serve, migrate, clients, catalog, imports, demo data.

May import: everything below it (``api``, ``auth``, ``db``); nothing imports it.
"""
