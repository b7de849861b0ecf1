"""The center network: who may assess and teach, where, and for which programs.

``centers`` registers and authorizes centers; ``authorizations`` keeps their periods, status
history and the question "in force on day D"; ``locator`` finds authorized centers nearest
first (geometry in ``db.earth``); ``instructors`` and ``proctors`` are the people, kept apart
by ``firewall``; ``geocode`` turns US ZIP codes into coordinates offline.

May import: the shared root of ``db`` and ``db.catalog``. Never ``db.registry``,
``db.events``, ``db.insights``, ``db.demo``, ``auth`` or ``api``.
"""
