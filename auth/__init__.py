"""OAuth 2.0 for the API: clients and their secrets, tokens, scopes, and the signing keys.

May import: ``db`` only. Never ``api`` or ``cli``.
"""
