"""GraphQL types of the registry: candidates, results, credentials, verification, the audit trail.

May import: the shared types of ``api.schema``, the other domains' types below it
(``network``, ``events``), ``api.context``, ``api.errors``, the resolver functions its fields
attach (never a resolver module that imports these types back), ``auth`` and ``db``.
"""
