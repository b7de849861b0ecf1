"""GraphQL types of insights: the diagnostic, cohorts, dashboards.

May import: the shared types of ``api.schema``, the registry's and the network's types,
``api.context``, ``api.limits``, the resolver functions its fields attach (never a resolver
module that imports these types back), ``auth`` and ``db``.
"""
