"""Insights: read-only aggregates over the registry and the network.

``diagnostics`` (the employer diagnostic: standings, gaps, training plan), ``cohorts``
(employers' saved lists, read through consent), ``stats`` (registry dashboards) and
``network_stats`` (dashboard figures about the center network).

May import: the shared root of ``db``, ``db.catalog``, ``db.platform``, ``db.registry`` and
``db.network``. Never ``db.events`` or ``db.imports`` directly, ``db.demo``, ``auth`` or ``api``.
"""
