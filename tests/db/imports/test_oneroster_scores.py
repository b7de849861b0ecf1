"""A OneRoster score scaled by its line item's range is judged exactly, whatever the range: the
stored percent never reaches a cut the exact one misses, and is the exact one when its decimal
expansion ends. And the committed sample bundle is what its script writes."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from db.registry.scores import Score
from tests.support.fuzzing import examples, seeded
from tests.support.oneroster import SAMPLES, generator

points = st.decimals(min_value=-1000, max_value=1000, places=4, allow_nan=False)
cuts = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False)


@seeded
@examples()
@given(
    low=points,
    width=st.decimals(min_value="0.0001", max_value=1000, places=4),
    at=st.fractions(0, 1),
    cut=cuts,
)
def test_a_scaled_score_meets_a_cut_exactly_as_its_fraction_does(
    low: Decimal, width: Decimal, at: Fraction, cut: Decimal
) -> None:
    high = low + width
    score = Fraction(low) + at * Fraction(width)
    exact = (score - Fraction(low)) * 100 / (Fraction(high) - Fraction(low))
    judged = Score.of_fraction(exact)
    assert judged.exact == exact
    assert judged.meets(cut) == (exact >= Fraction(cut))
    stored = Fraction(judged.stored)
    assert stored <= exact
    # What the numeric column keeps compares with a two-decimal cut as the exact score does,
    # so SQL that compares stored scores with cuts agrees with the judgement.
    assert (stored >= Fraction(cut)) == (exact >= Fraction(cut))


@examples()
@given(numerator=st.integers(0, 10**6), twos=st.integers(0, 30), fives=st.integers(0, 30))
def test_a_fraction_whose_decimal_ends_is_stored_as_it_is(
    numerator: int, twos: int, fives: int
) -> None:
    exact = Fraction(numerator, 2**twos * 5**fives)
    assert Fraction(Score.of_fraction(exact).stored) == exact


def test_the_committed_sample_is_what_its_script_writes() -> None:
    script = generator()
    committed = (SAMPLES / "oneroster-bundle.zip").read_bytes()
    assert committed == script.zipped(script.files())
    results = script.files()["results.csv"].decode().splitlines()
    assert len(results) - 1 == 300 * 5
    assert {line.split(",")[3] for line in results[1:]} == {
        "li-safety",
        "li-quality",
        "li-production",
        "li-maintenance",
        "li-green",
    }
