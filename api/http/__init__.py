"""The HTTP edge: pure ASGI middleware and guards every route goes through.

``observability`` (request ids, the access line, Prometheus metrics) and ``logs`` (JSON lines,
redaction), ``security_headers``, ``guards`` (the body limit), ``masked_errors`` (the last
word on an exception that escapes a route: 503 and Retry-After for a database outage, else a
masked 500) and ``idempotency`` (the Idempotency-Key header).

May import: ``api.settings``, ``api.errors``, ``db`` and ``auth``. Never GraphQL (``api.schema``,
``api.resolvers``, ``api.graphql``), routes or workers.
"""
