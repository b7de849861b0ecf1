"""GraphQL types of events out: the change feed, webhooks, verifiable credentials.

May import: the shared types of ``api.schema``, ``api.context``, the resolver functions its
fields attach (never a resolver module that imports these types back), ``auth`` and ``db``.
"""
