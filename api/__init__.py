"""The HTTP and GraphQL layer: ``create_app(settings)`` and everything a request meets.

At the root: ``app`` (routes, middleware, lifespan), ``settings`` (the only reader of the
environment), ``context`` (the per-request Context and the app-wide Resources: data and
handles, never services that import routes), ``errors``, ``audit`` and ``permissions``. By
role: ``http/`` (middleware and guards), ``graphql/`` (the /graphql endpoint), ``limits/``,
``graphiql/``, ``schema/`` and ``resolvers/`` (GraphQL, grouped like ``db``), ``routes/``
(routes that are not GraphQL) and ``workers/`` (background work).

May import ``auth`` and ``db``; never ``cli`` or ``bench``.
"""
