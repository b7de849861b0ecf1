"""Routes that are not GraphQL: plain HTTP endpoints with their own answers.

``credential_documents`` (issuer profile, signing keys, achievements, status lists),
``verify_page`` (the page a certificate's QR code opens), ``reports`` (the diagnostic as CSV
or PDF), ``imports`` (uploads of results, their state and refused rows) and
``oneroster_gradebook`` (OneRoster 1.2 Gradebook REST: line items and results pushed).

May import: ``api.context`` (the app-wide resources), ``api.errors``, ``api.audit``, the
resolvers and types they reuse, ``auth`` and ``db``. Nothing imports them but ``api.app``.
"""
