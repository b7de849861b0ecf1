"""The GraphQL schema: output types (``from_model``), inputs and payloads, by domain.

``root`` wires the Query and Mutation fields to the resolvers and builds the Schema; the
shared pieces sit beside it (``node``: global IDs; ``opaque``: their one spelling;
``pagination``, ``cursors``, ``scalars``, ``user_error``, ``organization``, ``catalog``;
``execution``: the execution context); the
types of each part of the registry sit in ``registry/``, ``network/``, ``events/`` and
``insights/``, like ``db``'s packages.

Types and resolvers depend in one direction between any two modules: a resolver module
imports the types it returns; a type may attach a resolver function to a field, and that
resolver then reads its parent through a Protocol, never by importing the type. Nothing but
``api.app`` (and the tests) imports ``root``.

May import: the resolvers it attaches, ``api.context``, ``api.errors``, ``api.audit``,
``api.permissions``, ``api.limits``, ``api.settings``, ``auth`` and ``db``. Never routes,
middleware, workers or the ``/graphql`` endpoint.
"""
