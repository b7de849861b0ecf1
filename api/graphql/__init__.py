"""The ``/graphql`` endpoint: how an HTTP request becomes an execution and its answer.

``view`` (Strawberry's view with our context and orjson), ``over_http`` (GraphQL over HTTP:
media types, parameters, status codes), ``fast_path`` (checked documents run on graphql-core
directly) and ``persisted_queries`` (with the shipped ``operations/``).

May import: ``api.context``, ``api.errors``, ``api.settings``, ``api.limits``, ``api.graphiql``,
``auth`` and ``db``. Never resolvers or routes; the schema arrives as an argument.
"""
