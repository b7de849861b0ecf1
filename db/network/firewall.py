"""The firewall between training and certification (ISO/IEC 17024 §5.2).

A person, matched by email (``db/platform/emails.py``: trimmed, NFKC, case-insensitively), is
either on the TRAINING side (an instructor) or on the CERTIFICATION side (a proctor or site
coordinator), never both. Every
registration claims its side in ``firewall_sides``, whose primary key settles concurrent
claims: the second transaction waits for the first and then sees its row.

A refused registration carries the contract's code ``PROCTOR_NOT_ALLOWED``, the code
``postResults`` gives when the same rule stops a result.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db import models
from db.errors import RuleViolation
from db.platform.emails import email_text

Side = Literal["TRAINING", "CERTIFICATION"]

_ROLE_NAMES: dict[str, str] = {
    "TRAINING": "an instructor",
    "CERTIFICATION": "a proctor or site coordinator",
}


class FirewallViolation(RuleViolation):
    def __init__(self, email: str, *, registered: str, wanted: str) -> None:
        super().__init__(
            "PROCTOR_NOT_ALLOWED",
            f"{email} is registered as {_ROLE_NAMES[registered]}, so cannot also be "
            f"{_ROLE_NAMES[wanted]}: the registry keeps training and certification apart",
            field=("email",),
        )


def checked_email(email: str) -> str:
    """The email as stored (``email_text``); INVALID unless it looks like an address (it is
    the person's key)."""
    email = email_text(email)
    local, at, domain = email.partition("@")
    if not (local and at and "." in domain) or any(c.isspace() for c in email):
        raise RuleViolation("INVALID", f"{email!r} is not an email address", field=("email",))
    return email


async def claim_side(session: AsyncSession, *, email: str, side: Side) -> None:
    """Record that ``email`` is on ``side``; :class:`FirewallViolation` if it is on the other."""
    await session.execute(
        insert(models.FirewallSide)
        .values(email=email, side=side)
        .on_conflict_do_nothing(index_elements=["email"])
    )
    registered = await session.scalar(
        select(models.FirewallSide.side).where(models.FirewallSide.email == email)
    )
    if registered != side:
        raise FirewallViolation(email, registered=str(registered), wanted=side)
