"""The database platform: what any part of the registry needs to reach PostgreSQL.

The engine and its first-come-first-served pool (``engine``, ``pool``), a request's own asyncpg
connection for the hottest statements (``driver``), the embedded server used when no
``DATABASE_URL`` is set (``embedded``), Alembic run from code (``migrate``), bringing a database
up to date under an advisory lock (``bootstrap``), bulk inserts (``bulk``), whole-request
idempotency keys (``idempotency``) and the integers a client may write, in one spelling and
within a bigint (``identifiers``).

May import: the shared root of ``db`` (``models``, ``base``) and ``db.catalog`` (``bootstrap``
loads the reference catalog). Never a domain package, ``auth`` or ``api``.
"""
