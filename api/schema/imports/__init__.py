"""GraphQL types of imports: ``ResultImport`` and its connection (``result_imports``).

May import: the shared schema pieces (``node``, ``pagination``, ``scalars``), ``api.context``
and ``db``.
"""
