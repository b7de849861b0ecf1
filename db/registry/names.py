"""Name matching for verification and consent: case- and accent-insensitive.

A family name is compared by its key: its letters and digits, folded. A name with none
(``-``, ``...``, a zero-width space, only combining marks or only spacing) has an empty key,
which would match every other such name: such a name is refused at registration
(:func:`check_family_name`) and matches nothing, not even itself (:func:`names_match`).
"""

from __future__ import annotations

import hmac
import unicodedata

# Letters that Unicode does not decompose into a base letter and an accent.
_TRANSLITERATE = str.maketrans(
    {
        "ø": "o",
        "Ø": "o",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "Ð": "d",
        "þ": "th",
        "Þ": "th",
        "\u0131": "i",  # dotless i
    }
)


def name_key(name: str) -> str:
    """Fold a family name so that "Müller-Lüdenscheidt" matches "muller ludenscheidt".

    Accents, case, spacing and punctuation are ignored; letters and digits are compared.
    """
    decomposed = unicodedata.normalize("NFKD", name.translate(_TRANSLITERATE))
    letters = (c for c in decomposed if not unicodedata.combining(c))
    return "".join(c for c in "".join(letters).casefold() if c.isalnum())


class InvalidName(ValueError):
    """A family name that could not be told apart from others by its letters and digits."""


def is_matchable(name: str) -> bool:
    """Whether ``name`` has a letter or a digit to be matched by."""
    return bool(name_key(name))


def check_family_name(name: str) -> None:
    """Raise :class:`InvalidName` for a family name without a letter or a digit."""
    if not is_matchable(name):
        raise InvalidName("a family name must contain a letter or a digit")


def names_match(key: str, family_name: str) -> bool:
    """Whether ``family_name`` matches a stored :func:`name_key`, in constant time.

    An empty key matches nothing: the stored one (a record older than the rule), or the given
    one (a name of punctuation, format characters or spacing).
    """
    given = name_key(family_name)
    same = hmac.compare_digest(key.encode(), given.encode())
    return same and bool(given)
