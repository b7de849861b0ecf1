"""The registry itself: the rules that judge results and the records they leave.

``results`` judges results (``post_results`` is their one code path), ``result_batches``
records a judged batch set-based, ``result_items`` holds the values they pass around, with
one rule each for the day of an assessment (``assessment_day``), exact scores (``scores``)
and what a candidate's history allows (``ledgers``); ``credentials`` issues exactly once and
runs the lifecycle; ``candidates`` registers and merges; ``consent``, ``verification``,
``records`` (entitled batched reads), ``disclosures`` (the candidate-facing log) and
``audit`` (the audit trail); ``codes`` and ``names``.

May import: the shared root of ``db``, ``db.catalog``, ``db.network`` (a result needs its
center's authorization in force) ``db.events`` (every change is an event) and
``db.platform``. Never ``db.insights``, ``db.imports``, ``db.demo``, ``auth`` or ``api``.
"""
