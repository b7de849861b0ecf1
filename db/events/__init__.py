"""Events out: what the registry tells the world, and how.

``change_feed`` numbers every state change gap-free in commit order; ``webhooks`` keeps the
endpoints that follow it and the outbox their deliveries wait in (the retry policy is there);
``open_badges`` and ``status_lists`` are the verifiable-credential documents (Open Badges 3.0,
CLR 2.0, Bitstring Status Lists).

May import: the shared root of ``db`` and ``db.catalog``. Never ``db.registry`` (the
registry writes events, events never read its rules), ``db.network``, ``db.insights``,
``db.demo``, ``auth`` or ``api``.
"""
