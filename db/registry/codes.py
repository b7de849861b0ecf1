"""Human-facing codes: credential verification codes, registry numbers and share codes.

All use Crockford's base-32 alphabet (no I, L, O or U, so nothing is misread or spells a word)
with a trailing mod-37 check character that catches every single-character typo and every
swap of adjacent characters before a lookup is made.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_ALPHABET = ALPHABET + "*~$=U"  # Crockford's check symbols for values 32-36
_VALUE = {char: index for index, char in enumerate(ALPHABET)}
# Characters people type for ones that are not in the alphabet.
_CONFUSABLE = str.maketrans({"I": "1", "L": "1", "O": "0"})

VERIFICATION_CODE_LENGTH = 13  # 65 random bits
REGISTRY_NUMBER_LENGTH = 9  # 45 random bits: unique by constraint, not by secrecy
SHARE_CODE_LENGTH = 12  # 60 random bits, single use, expires
# Longer than any code typed with generous spacing: not worth reading.
MAX_TYPED_LENGTH = 256


def _check_character(payload: str) -> str:
    value = 0
    for char in payload:
        value = (value * 32 + _VALUE[char]) % 37
    return CHECK_ALPHABET[value]


def _random_payload(length: int) -> str:
    # One draw of 5 bits per character (the alphabet has 32), not one call per character:
    # issuing a batch's credentials draws thousands of codes.
    bits = secrets.randbits(5 * length)
    return "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in range(length))


def _grouped(code: str, size: int) -> str:
    return "-".join(code[i : i + size] for i in range(0, len(code), size))


def new_code(length: int, *, group: int = 4) -> str:
    payload = _random_payload(length)
    return _grouped(payload + _check_character(payload), group)


def new_verification_code() -> str:
    """E.g. ``7K3D-9QXM-4T2B-HC*``: printed on the certificate."""
    return new_code(VERIFICATION_CODE_LENGTH)


def new_registry_number() -> str:
    """E.g. ``MS-4T2BH-7K3D9``: a candidate's number in the national registry."""
    payload = _random_payload(REGISTRY_NUMBER_LENGTH)
    return "MS-" + _grouped(payload + _check_character(payload), 5)


def new_share_code() -> str:
    return new_code(SHARE_CODE_LENGTH)


def normalize_code(raw: str, *, group: int = 4) -> str | None:
    """The canonical form of a typed code, or None when it cannot be one of ours.

    Case, spaces and hyphens are ignored and I, L, O read as 1, 1, 0; the check character
    must match. Only ASCII is read: ``str.upper()`` turns some other letters into ASCII ones
    (``"\\u017f".upper() == "S"``, ``"\\u0131".upper() == "I"``), which would make them aliases.
    """
    if len(raw) > MAX_TYPED_LENGTH or not raw.isascii():
        return None
    compact = "".join(raw.split()).replace("-", "").upper()
    if len(compact) < 2 or len(compact) > 64:
        return None
    payload, check = compact[:-1].translate(_CONFUSABLE), compact[-1]
    if check not in CHECK_ALPHABET:
        check = check.translate(_CONFUSABLE)
    if any(char not in _VALUE for char in payload) or _check_character(payload) != check:
        return None
    return _grouped(payload + check, group)
