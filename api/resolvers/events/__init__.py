"""Resolvers of events out: the change feed, webhooks, verifiable-credential exports.

May import: the types they return (``api.schema``), the shared resolvers, ``api.context``,
``api.errors``, ``api.permissions``, ``api.workers.webhook_targets`` (a webhook's URL is
checked when it is registered), ``auth`` and ``db``.
"""
