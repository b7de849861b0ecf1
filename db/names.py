"""Name matching for verification and consent: case- and accent-insensitive."""

from __future__ import annotations

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
