"""Status lists: one two-bit entry per credential that every kind of reader reads alike, the
positions it is given, the lists of before still served, and moments in whole seconds."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from db.events.open_badges import moment
from db.events.status_lists import (
    FIRST_INDEX,
    LEGACY_STATUS_SIZE,
    LIST_SIZE,
    REVOKED,
    STATUS_SIZE,
    SUSPENDED,
    VALID,
    bit_at,
    legacy_bits,
    message_bits,
    message_bitstring,
    status_entry,
    value_at,
)
from tests.db.registry.test_credentials import act, earn_cpt
from tests.support.fuzzing import examples
from tests.support.registry import School, make_school

VALUES = st.sampled_from([VALID, SUSPENDED, REVOKED])
ENTRIES = st.dictionaries(st.integers(FIRST_INDEX, LIST_SIZE - 1), VALUES, max_size=40)


@given(entries=ENTRIES)
@examples()
def test_every_reader_reads_the_same_standing(entries: dict[int, int]) -> None:
    """A reader of the specification (``statusSize`` bits at index times size), one reading a
    single bit at index times size (1EdTech's validator) and one reading a single bit at the
    index (the DCC library) agree, for every credential, on whether it is valid; the first
    also tells suspended from revoked."""
    bits = message_bitstring(entries.items())
    assert len(bits) * 8 == LIST_SIZE * STATUS_SIZE
    for index, value in entries.items():
        assert value_at(bits, index, STATUS_SIZE) == value
        assert bit_at(bits, index * STATUS_SIZE) == (value != VALID)
        assert bit_at(bits, index) == (value != VALID)
    # No bit is set that no credential's standing explains.
    expected = {
        i * STATUS_SIZE + o for i, v in entries.items() for o in range(2) if v >> (1 - o) & 1
    }
    expected |= {i for i, v in entries.items() if v != VALID}
    assert all(bit_at(bits, p) for p in expected)
    assert sum(bin(byte).count("1") for byte in bits) == len(expected)


@pytest.mark.parametrize("index", [0, FIRST_INDEX - 1, LIST_SIZE])
def test_positions_outside_the_upper_half_are_refused(index: int) -> None:
    with pytest.raises(ValueError, match="upper half"):
        message_bitstring([(index, SUSPENDED)])


@given(
    instant=st.datetimes(
        min_value=datetime(1970, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=14))]
        ),
    )
)
@examples(2)
def test_moments_are_whole_seconds_in_utc(instant: datetime) -> None:
    """What ``validFrom`` and ``validUntil`` say is exactly what ``nbf`` and ``exp`` can say."""
    written = moment(instant)
    assert written.endswith("Z")
    read = datetime.fromisoformat(written.replace("Z", "+00:00"))
    assert read.microsecond == 0
    assert int(read.timestamp()) == int(instant.timestamp() // 1)


@pytest.fixture
async def school(sessionmaker: async_sessionmaker[AsyncSession]) -> School:
    return await make_school(sessionmaker)


async def test_positions_are_random_distinct_and_in_the_upper_half(
    school: School, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    issued = await earn_cpt(school, "S-1")

    async def position(credential_id: int) -> tuple[int, int]:
        async with sessionmaker.begin() as session:
            entry = await status_entry(session, credential_id)
        return entry.list_id, entry.index

    # Exported at once, twice each: one position per credential.
    ids = [c.id for c in issued.values()] * 2
    found = await asyncio.gather(*(position(i) for i in ids))
    assert found[: len(issued)] == found[len(issued) :]
    assert len(set(found)) == len(issued)
    assert all(FIRST_INDEX <= index < LIST_SIZE for _, index in found)


async def test_the_bits_follow_the_status_and_lists_of_before_keep_theirs(
    school: School, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    issued = await earn_cpt(school, "S-1")
    safety = issued["CPT_SAFETY"]
    # A credential exported before the two-bit lists: a position in a list of the old kind.
    async with sessionmaker.begin() as session:
        legacy = models.StatusList(size=LIST_SIZE, status_size=LEGACY_STATUS_SIZE)
        session.add(legacy)
        await session.flush()
        session.add(
            models.CredentialStatusEntry(
                credential_id=safety.id,
                status_size=LEGACY_STATUS_SIZE,
                status_list_id=legacy.id,
                status_index=7,
            )
        )
    async with sessionmaker.begin() as session:
        entry = await status_entry(session, safety.id)  # a two-bit position of its own
    assert entry.list_id != legacy.id

    async def standing() -> tuple[int, bool, bool]:
        async with sessionmaker() as session:
            two_bits = await message_bits(session, entry.list_id)
            revocation = await legacy_bits(session, legacy.id, "revocation")
            suspension = await legacy_bits(session, legacy.id, "suspension")
        return (
            value_at(two_bits, entry.index, STATUS_SIZE),
            bit_at(revocation, 7),
            bit_at(suspension, 7),
        )

    assert await standing() == (VALID, False, False)
    for action, expected in [
        ("suspend", (SUSPENDED, False, True)),
        ("reinstate", (VALID, False, False)),
        ("revoke", (REVOKED, True, False)),
    ]:
        assert isinstance(await act(school, safety, action), models.Credential)
        assert await standing() == expected, action

    # An entry can never sit in a list of the other kind.
    async with sessionmaker() as session:
        kinds = (
            await session.execute(
                select(
                    models.CredentialStatusEntry.status_size, models.StatusList.status_size
                ).join(
                    models.StatusList,
                    models.StatusList.id == models.CredentialStatusEntry.status_list_id,
                )
            )
        ).all()
    assert all(entry_kind == list_kind for entry_kind, list_kind in kinds)
