"""The catalog: programs, modules, key work activities and credential types, as versioned data.

``document`` is the file format (TOML or its JSON equivalent, validated into typed documents
before anything is written, by one function the command line and GraphQL share); ``versions``
loads documents and serves immutable snapshots of the version in force on a day;
``requirements`` says what a credential needs and what a version does not know yet; ``diff``
compares two versions value by value; ``history`` is what a result older than the catalog is
told; ``reference/`` holds the reference catalog files every database is bootstrapped with.

May import: the shared root of ``db`` only (``models``, ``base``).
"""
