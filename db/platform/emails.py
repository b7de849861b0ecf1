"""Email addresses as the registry compares them: one person, one key.

An email is a person's key where the rules need one: the firewall between training and
certification (an instructor may not proctor; a proctor may not sit an assessment at their
center or proctor their own) and the uniqueness of instructors, proctors and firewall sides.
``A.B@Example.com `` and ``a.b@example.com`` are the same person, and so are an address typed
with full-width letters and its ASCII form. So every email is stored as :func:`email_text`
(trimmed, Unicode NFKC: one spelling of each character) and compared by :func:`email_key`
(that, lower-cased). Lower-casing, not ``casefold``, because PostgreSQL's ``citext`` columns
compare with ``lower()``: a key Python computes and a uniqueness PostgreSQL enforces agree.
The local part is folded too: the registry treats an address as case-insensitive throughout,
as every mail provider its users have does in practice.
"""

from __future__ import annotations

import unicodedata


def email_text(email: str) -> str:
    """The email as the registry stores it: trimmed, in Unicode NFKC."""
    return unicodedata.normalize("NFKC", email).strip()


def email_key(email: str | None) -> str:
    """What two emails of the same person have in common; "" for none."""
    return "" if email is None else email_text(email).lower()
