"""GraphQL types of imports: ``ResultImport`` and its connection (``result_imports``)."""
