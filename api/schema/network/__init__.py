"""GraphQL types of the center network: centers, authorizations, instructors, proctors.

May import: the shared types of ``api.schema``, ``api.context``, the resolver functions its
fields attach (never a resolver module that imports these types back), ``auth`` and ``db``.
"""
