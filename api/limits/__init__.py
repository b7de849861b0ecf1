"""Limits on what one GraphQL request may ask for, checked before anything executes.

- ``cost.py``: the query cost (GitHub/Shopify style), ``TOO_COMPLEX`` above the maximum,
  ``extensions.cost`` on every response, and the per-client cost budget;
- ``rules.py``: the directive limit, ``TOO_COMPLEX`` codes for the depth/alias/token
  limiters, and "Did you mean …" stripping;
- ``introspection.py``: introspection on, off, or for ``registry:admin`` tokens only;
- ``pagination.py``: the ``first`` cap every connection resolver applies;
- ``rate.py``: leaky buckets (in memory, or shared through Redis).

May import: ``api.settings``, ``api.errors`` and ``api.resolvers.arguments`` (the page sizes
the cost counts with); ``auth`` and ``db``. Never types, routes, middleware or workers.
"""
