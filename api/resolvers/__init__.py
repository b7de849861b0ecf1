"""Resolvers: async functions that parse input, call ``db``, and map rows to types.

Grouped like ``db``'s packages (``registry/``, ``network/``, ``events/``, ``insights/``), with
the shared pieces beside them: ``arguments`` (UNSET and page sizes), ``loaders`` (the
per-request DataLoaders, each batch on its own short session), ``node``, ``viewer``,
``clients``, ``catalog``. Mutations own their transaction.

A resolver module imports the types it returns and never the module of a type it is attached
to (it reads its parent through a Protocol). ``loaders`` returns rows, never GraphQL types:
the per-request context holds it.

May import: the types they return (``api.schema``), ``api.context``, ``api.errors``,
``api.audit``, ``api.permissions``, ``api.settings``, ``api.workers.webhook_targets`` (a
webhook URL is judged as the sender will judge it), ``auth`` and ``db``. Never routes,
middleware or the ``/graphql`` endpoint.
"""
