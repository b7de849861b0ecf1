"""The demo data set that ``mssc serve --demo`` loads: deterministic, synthetic, idempotent.

- ``places``: where demo centers stand (real US ZIP locations, real cities abroad).
- ``network``: the plan of the national network (centers, authorizations with their history,
  instructors, proctors), generated from a seed and the load day, without I/O.
- ``load``: writes a plan in one transaction, or recognises it is already there.

The registry engine adds the demo's candidates and results as a further step that posts them
through the same rules code ``postResults`` uses (see ``cli/demo.py``).

May import: every package of ``db`` (it is the top of ``db``); nothing imports it but the
CLI and the tests. Never ``auth`` or ``api``.
"""
