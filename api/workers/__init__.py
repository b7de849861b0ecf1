"""Background work: what a server process (or ``mssc worker``) does besides answering.

``maintenance`` records expiries and forgets stale keys; ``webhook_worker`` fans the change
feed out into deliveries and ``webhook_sender`` sends one (the signature), to a URL
``webhook_targets`` allows (the SSRF guard); ``imports`` runs uploaded imports a part at a
time; ``background`` keeps every loop running and its failures in ``/metrics``;
``events_service`` runs the webhook loops and holds the credential-signing keys for one
process (``api.app`` starts it beside the maintenance and import loops).

May import: ``api.settings``, ``auth`` and ``db``. Never GraphQL, routes, middleware or the
per-request context.
"""
