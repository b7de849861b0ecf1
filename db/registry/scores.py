"""Scores: judged exactly, stored exactly, rounded only where they are shown.

A score arrives as a number of correct answers out of the module's question count, or as a
percent. A percent is the decimal the client wrote: GraphQL reads a JSON number as a float
whose shortest round-tripping decimal (``repr``) is the text sent, so 75.995 is 75.995, never
75.99499999999999744... or 76.00; the CSV import reads the text itself. Correct answers are the
fraction 100 * correct / questions. ``Score.meets`` compares either with the cut score exactly:
75.995 % fails a 76 % cut, and so do 63 of 83 answers (75.903... %).

``Score.stored`` is what the ``numeric`` columns keep: a percent exactly as sent, and a fraction
of answers (which rarely has a finite decimal expansion) to ``STORED_PLACES`` decimal places,
rounded down. Both compare with any cut score exactly as the fraction does: a cut has at most
two decimals (``db/catalog/document.py``), so a fraction 100c/q that is not equal to it differs
from it by at least 1/(100q), far more than the rounding, and one that is equal to it has a
finite expansion, stored as it is. The fraction itself stays recoverable from
``correct_answers`` and the question count of the result's catalog version.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction

STORED_PLACES = 20


@dataclass(frozen=True, slots=True)
class Score:
    """A percent score: ``exact`` for judging, ``stored`` for the database and answers."""

    exact: Fraction
    stored: Decimal

    @classmethod
    def of_percent(cls, percent: Decimal) -> Score:
        return cls(Fraction(percent), percent)

    @classmethod
    def of_answers(cls, correct: int, questions: int) -> Score:
        return cls.of_rounded_down(Fraction(100 * correct, questions))

    @classmethod
    def of_rounded_down(cls, exact: Fraction) -> Score:
        scaled = exact.numerator * 10**STORED_PLACES // exact.denominator  # rounded down
        return cls(exact, Decimal(scaled).scaleb(-STORED_PLACES))

    @classmethod
    def of_fraction(cls, exact: Fraction) -> Score:
        """A percent known as a fraction (points of a OneRoster line item's range): stored
        exactly when its decimal expansion ends, else rounded down as answers are."""
        twos = fives = 0
        rest = exact.denominator
        while rest % 2 == 0:
            rest, twos = rest // 2, twos + 1
        while rest % 5 == 0:
            rest, fives = rest // 5, fives + 1
        if rest != 1:
            return cls.of_rounded_down(exact)
        places = max(twos, fives)
        scaled = exact.numerator * (10**places // exact.denominator)
        return cls(exact, Decimal(scaled).scaleb(-places))

    def meets(self, cut: Decimal) -> bool:
        """At or above the cut score: passed."""
        return self.exact >= Fraction(cut)


def shown(percent: Decimal, places: int = 2) -> Decimal:
    """A score for people to read: ``places`` decimals, rounded down, so that a score shown
    never reaches a cut score it missed (75.995 reads 75.99, not 76.00)."""
    return percent.quantize(Decimal(1).scaleb(-places), ROUND_DOWN)


def as_float(percent: Decimal) -> float:
    """A score as a JSON number, never read as a hundredth it did not reach.

    ``float()`` rounds to the nearest float, and a reader takes a float for its shortest
    spelling: the nearest float to 75.99999999999999999 spells 76.0, a pass of a 76 % cut.
    Cut scores have at most two decimals, so the float is stepped down until its spelling
    rounds down to the same hundredth as the score; 75.995 stays 75.995 (the float's spelling
    is the score) and 75.99999999999999999 becomes 75.99999999999999.
    """
    number = float(percent)
    while shown(Decimal(repr(number))) > shown(percent):
        number = math.nextafter(number, -math.inf)
    return number
