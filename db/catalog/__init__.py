"""The catalog: programs, modules, key work activities and credential types, as versioned data.

``document`` is the file format (TOML validated into typed documents before anything is
written); ``versions`` loads documents and serves immutable snapshots of the version in force
on a day; ``reference/`` holds the reference catalog files every database is bootstrapped with.

May import: the shared root of ``db`` only (``models``, ``base``).
"""
