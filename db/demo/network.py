"""The plan of the demo national network, generated from a seed and the load day.

The shape follows the network's published numbers (seed 000): 1,394 centers authorized in 49
states and DC plus 8 abroad, and 2,121 instructors. Around them: centers whose authorization
expired, was suspended or withdrawn, or starts soon; renewals, a suspension later lifted;
instructors with lapsed grants; proctors and site coordinators at every center.

Dates are relative to the load day, so the network is current whenever it is loaded; the
same seed and day always give the same plan. Nothing here touches the database.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from db.demo.places import CITIES_ABROAD, JURISDICTIONS, ZipPlace, zip_places

SEED = 2121
US_AUTHORIZED_CENTERS = 1_394
INSTRUCTORS = 2_121
# Centers not authorized on the load day, by what became of their authorization.
LAPSED_CENTERS = {"EXPIRED": 50, "SUSPENDED": 24, "WITHDRAWN": 14, "PENDING": 18}

CPT_MODULES = ("SAFETY", "QUALITY", "PRODUCTION", "MAINTENANCE", "GREEN")
CLT_MODULES = ("CLA", "CLT")

KINDS = {  # kind: (weight, share of partner schools)
    "HIGH_SCHOOL": (34, 0.85),
    "COLLEGE": (30, 0.75),
    "WORKFORCE_AGENCY": (12, 0.0),
    "EMPLOYER": (11, 0.0),
    "CORRECTIONAL": (5, 0.0),
    "UNION": (4, 0.0),
    "OTHER": (4, 0.05),
}
NAME_PATTERNS = {
    "HIGH_SCHOOL": ("{city} High School", "{city} Career Center", "{city} Technical High School"),
    "COLLEGE": ("{city} Community College", "{city} Technical College", "{city} State College"),
    "WORKFORCE_AGENCY": ("{county} Workforce Center", "{city} American Job Center"),
    "EMPLOYER": ("{city} Manufacturing Training Center", "{city} Logistics Training Center"),
    "CORRECTIONAL": ("{city} Correctional Education Program",),
    "UNION": ("{city} Joint Apprenticeship Training Center",),
    "OTHER": ("{city} Adult Learning Center", "{city} Public Library Testing Center"),
}

# Demo operators: the organizations whose (future) API clients post results for their centers.
SCHOOL_NETWORKS = {
    "Great Lakes Career Colleges": ("MI", "OH", "IN", "IL", "WI"),
    "Prairie Technical College System": ("IA", "MO", "KS", "NE", "MN", "ND", "SD"),
    "Appalachian Skills Consortium": ("PA", "WV", "KY", "TN", "VA"),
    "Gulf Coast Technical Schools": ("TX", "LA", "MS", "AL", "FL"),
    "Cascadia Workforce Colleges": ("WA", "OR", "ID", "MT", "AK"),
}
EMPLOYER_NETWORKS = {
    "Keystone Precision Manufacturing": ("PA", "NJ", "NY", "OH", "MI"),
    "Continental Logistics Group": ("TX", "GA", "TN", "KY", "IN"),
}
INTERNATIONAL_NETWORK = "Global Manufacturing Skills Alliance"
CENTERS_PER_NETWORK = 40

GIVEN_NAMES = (
    "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara "
    "Richard Susan Joseph Jessica Thomas Sarah Carlos Karen Daniel Lisa Matthew Nancy "
    "Anthony Betty Mark Sandra Jose Ashley Steven Kimberly Andrew Emily Kevin Donna Brian "
    "Michelle Luis Carol Wei Aisha Nguyen Priya Omar Sofia Darnell Keisha Hiroshi Fatima"
).split()
FAMILY_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez "
    "Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson "
    "White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott "
    "Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter "
    "Roberts Kowalski Okafor Patel Chen Yamamoto Haddad Novak Lindqvist"
).split()


@dataclass(frozen=True, slots=True)
class PlannedChange:
    status: str
    effective_at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class PlannedAuthorization:
    program_code: str
    authorized_from: date
    authorized_until: date | None
    changes: tuple[PlannedChange, ...]  # oldest first; the first is ACTIVE at the start


@dataclass(frozen=True, slots=True)
class PlannedCenter:
    site_code: str
    name: str
    kind: str
    partner_school: bool
    city: str
    state: str | None
    postal_code: str | None
    country: str
    latitude: float
    longitude: float
    organization: str | None
    authorizations: tuple[PlannedAuthorization, ...]


@dataclass(frozen=True, slots=True)
class PlannedGrant:
    module_code: str
    authorized_from: date
    authorized_until: date | None


@dataclass(frozen=True, slots=True)
class PlannedInstructor:
    given_name: str
    family_name: str
    email: str
    phone: str | None
    contact_opt_in: bool
    center_site_codes: tuple[str, ...]
    grants: tuple[PlannedGrant, ...]


@dataclass(frozen=True, slots=True)
class PlannedProctor:
    center_site_code: str
    given_name: str
    family_name: str
    email: str
    role: str


@dataclass(frozen=True, slots=True)
class NetworkPlan:
    day: date
    organizations: tuple[tuple[str, str], ...]  # (name, kind)
    centers: tuple[PlannedCenter, ...]
    instructors: tuple[PlannedInstructor, ...]
    proctors: tuple[PlannedProctor, ...]


def _at(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _allocate(total: int, weights: dict[str, int], minimum: int) -> dict[str, int]:
    """Split ``total`` over the keys: ``minimum`` each, the rest by weight (largest remainder)."""
    counts = dict.fromkeys(weights, minimum)
    rest = total - minimum * len(weights)
    weight_sum = sum(weights.values())
    shares = {key: rest * weight / weight_sum for key, weight in weights.items()}
    for key, share in shares.items():
        counts[key] += int(share)
    leftover = total - sum(counts.values())
    by_remainder = sorted(shares, key=lambda key: (-(shares[key] % 1), key))
    for key in by_remainder[:leftover]:
        counts[key] += 1
    return counts


class _Planner:
    def __init__(self, seed: int, day: date) -> None:
        self.rng = random.Random(seed)
        self.day = day

    def days_ago(self, low: int, high: int) -> date:
        return self.day - timedelta(days=self.rng.randint(low, high))

    def days_ahead(self, low: int, high: int) -> date:
        return self.day + timedelta(days=self.rng.randint(low, high))

    def programs(self) -> tuple[str, ...]:
        roll = self.rng.random()
        return ("CPT",) if roll < 0.55 else ("CPT", "CLT") if roll < 0.85 else ("CLT",)

    def current(self, program: str) -> list[PlannedAuthorization]:
        """A period in force on the load day, sometimes after an earlier period or a suspension."""
        start = self.days_ago(30, 3650)
        until = None if self.rng.random() < 0.4 else self.days_ahead(30, 1095)
        changes = [PlannedChange("ACTIVE", _at(start), "authorized")]
        roll = self.rng.random()
        if roll < 0.04 and (self.day - start).days > 60:
            suspended = start + timedelta(days=self.rng.randint(10, (self.day - start).days - 40))
            lifted = suspended + timedelta(days=self.rng.randint(10, 30))
            changes += [
                PlannedChange("SUSPENDED", _at(suspended), "audit findings under review"),
                PlannedChange("ACTIVE", _at(lifted), "corrective action accepted"),
            ]
        periods = [PlannedAuthorization(program, start, until, tuple(changes))]
        if 0.04 <= roll < 0.12:  # an earlier, expired period: the center renewed
            earlier_start = start - timedelta(days=self.rng.randint(400, 1500))
            periods.insert(
                0,
                PlannedAuthorization(
                    program,
                    earlier_start,
                    start - timedelta(days=1),
                    (PlannedChange("ACTIVE", _at(earlier_start), "authorized"),),
                ),
            )
        return periods

    def lapsed(self, program: str, fate: str) -> PlannedAuthorization:
        """A period not in force on the load day."""
        if fate == "PENDING":
            start = self.days_ahead(7, 120)
            return PlannedAuthorization(
                program,
                start,
                start + timedelta(days=3 * 365),
                (PlannedChange("ACTIVE", _at(start), "authorized"),),
            )
        start = self.days_ago(1500, 3650)
        first = PlannedChange("ACTIVE", _at(start), "authorized")
        if fate == "EXPIRED":
            until = self.days_ago(1, 900)
            return PlannedAuthorization(program, start, until, (first,))
        open_until = None if self.rng.random() < 0.5 else self.days_ahead(30, 700)
        if fate == "SUSPENDED":
            change = PlannedChange(
                "SUSPENDED", _at(self.days_ago(1, 200)), "proctoring irregularities under review"
            )
        else:
            change = PlannedChange("WITHDRAWN", _at(self.days_ago(1, 700)), "center closed")
        return PlannedAuthorization(program, start, open_until, (first, change))

    def kind(self) -> tuple[str, bool]:
        kinds = list(KINDS)
        kind = self.rng.choices(kinds, weights=[KINDS[k][0] for k in kinds])[0]
        return kind, self.rng.random() < KINDS[kind][1]

    def name(self, kind: str, city: str, county: str) -> str:
        pattern = self.rng.choice(NAME_PATTERNS[kind])
        return pattern.format(city=city, county=county or f"{city} Area")

    def person(self) -> tuple[str, str]:
        return self.rng.choice(GIVEN_NAMES), self.rng.choice(FAMILY_NAMES)


def _us_centers(planner: _Planner, places: dict[str, list[ZipPlace]]) -> list[PlannedCenter]:
    rng = planner.rng
    weights = {state: len(places[state]) for state in JURISDICTIONS}
    authorized = _allocate(US_AUTHORIZED_CENTERS, weights, minimum=3)
    fates = [fate for fate, count in LAPSED_CENTERS.items() for _ in range(count)]
    lapsed_states = rng.choices(
        JURISDICTIONS, weights=[weights[s] for s in JURISDICTIONS], k=len(fates)
    )
    centers = []
    for state in JURISDICTIONS:
        state_fates = [None] * authorized[state] + [
            fate for fate, where in zip(fates, lapsed_states, strict=True) if where == state
        ]
        spots = rng.sample(places[state], len(state_fates))
        for number, (fate, spot) in enumerate(zip(state_fates, spots, strict=True), start=1):
            kind, partner = planner.kind()
            programs = planner.programs()
            if fate is None:
                periods = [p for program in programs for p in planner.current(program)]
                if rng.random() < 0.03 and len(programs) == 1:  # the other program suspended
                    other = "CLT" if programs == ("CPT",) else "CPT"
                    periods.append(planner.lapsed(other, "SUSPENDED"))
            else:
                periods = [planner.lapsed(program, fate) for program in programs[:1]]
            centers.append(
                PlannedCenter(
                    site_code=f"US-{state}-{number:04d}",
                    name=planner.name(kind, spot.city, spot.county),
                    kind=kind,
                    partner_school=partner,
                    city=spot.city,
                    state=state,
                    postal_code=spot.zip_code,
                    country="US",
                    latitude=spot.latitude,
                    longitude=spot.longitude,
                    organization=None,
                    authorizations=tuple(periods),
                )
            )
    return centers


def _centers_abroad(planner: _Planner) -> list[PlannedCenter]:
    centers = []
    for number, city in enumerate(CITIES_ABROAD, start=1):
        kind = planner.rng.choice(("COLLEGE", "WORKFORCE_AGENCY", "EMPLOYER"))
        centers.append(
            PlannedCenter(
                site_code=f"{city.country}-{city.name[:3].upper()}-{number:02d}",
                name=f"{city.name} {_ABROAD_NAMES[kind]}",
                kind=kind,
                partner_school=kind == "COLLEGE",
                city=city.name,
                state=None,
                postal_code=None,
                country=city.country,
                latitude=city.latitude,
                longitude=city.longitude,
                organization=INTERNATIONAL_NETWORK,
                authorizations=tuple(planner.current("CPT")),
            )
        )
    return centers


_ABROAD_NAMES = {
    "COLLEGE": "Polytechnic Institute",
    "WORKFORCE_AGENCY": "Industrial Skills Centre",
    "EMPLOYER": "Advanced Manufacturing Academy",
}


def _assign_operators(rng: random.Random, centers: list[PlannedCenter]) -> list[PlannedCenter]:
    """Give each demo organization up to CENTERS_PER_NETWORK centers of its kind in its states."""
    operator: dict[str, str] = {}
    for networks, kinds in (
        (SCHOOL_NETWORKS, {"HIGH_SCHOOL", "COLLEGE"}),
        (EMPLOYER_NETWORKS, {"EMPLOYER"}),
    ):
        for organization, states in networks.items():
            eligible = [
                c.site_code
                for c in centers
                if c.state in states and c.kind in kinds and c.site_code not in operator
            ]
            for site_code in rng.sample(eligible, min(CENTERS_PER_NETWORK, len(eligible))):
                operator[site_code] = organization
    return [replace(c, organization=operator.get(c.site_code, c.organization)) for c in centers]


def _in_force(center: PlannedCenter, day: date) -> tuple[str, ...]:
    """Programs the plan authorizes the center for on ``day`` (mirrors the registry's rule)."""
    programs = []
    for period in center.authorizations:
        in_range = period.authorized_from <= day and (
            period.authorized_until is None or period.authorized_until >= day
        )
        status = [c.status for c in period.changes if c.effective_at.date() <= day]
        if in_range and status and status[-1] == "ACTIVE":
            programs.append(period.program_code)
    return tuple(dict.fromkeys(programs))


def _instructors(
    planner: _Planner, centers: Sequence[PlannedCenter], area_codes: dict[str, str]
) -> list[PlannedInstructor]:
    rng, day = planner.rng, planner.day
    current = [(c, _in_force(c, day)) for c in centers if _in_force(c, day)]
    # Every authorized center has at least one instructor; the rest go where chance puts them.
    homes = [c for c, _ in current] + rng.choices(
        [c for c, _ in current], k=INSTRUCTORS - len(current)
    )
    programs_of = {c.site_code: programs for c, programs in current}
    neighbours: dict[tuple[str, str | None], list[str]] = {}
    for center, _ in current:
        neighbours.setdefault((center.country, center.state), []).append(center.site_code)
    instructors = []
    for number, home in enumerate(homes, start=1):
        given, family = planner.person()
        site_codes = [home.site_code]
        nearby = neighbours[(home.country, home.state)]
        if len(nearby) > 1 and rng.random() < 0.25:
            site_codes.append(rng.choice([s for s in nearby if s != home.site_code]))
        modules: list[str] = []
        if "CPT" in programs_of[home.site_code]:
            modules += ["SAFETY"] if rng.random() < 0.7 else []
            modules += [m for m in CPT_MODULES[1:] if rng.random() < 0.35]
            modules = modules or [rng.choice(CPT_MODULES)]
        if "CLT" in programs_of[home.site_code]:
            modules += [m for m in CLT_MODULES if rng.random() < 0.6] or ["CLA"]
        grants = [
            PlannedGrant(
                module,
                planner.days_ago(10, 2500),
                None if rng.random() < 0.5 else planner.days_ahead(30, 900),
            )
            for module in modules
        ]
        if rng.random() < 0.12:
            start = planner.days_ago(1000, 3000)
            grants.append(
                PlannedGrant(rng.choice(CPT_MODULES + CLT_MODULES), start, planner.days_ago(1, 500))
            )
        opted_in = rng.random() < 0.45
        area_code = area_codes.get(home.postal_code or "")
        phone = (
            f"+1-{area_code}-555-{rng.randint(100, 199):04d}"  # 555-01xx: reserved for fiction
            if area_code and rng.random() < 0.7
            else None
        )
        instructors.append(
            PlannedInstructor(
                given_name=given,
                family_name=family,
                email=f"{given}.{family}.{number:04d}@instructors.example.org".lower(),
                phone=phone,
                contact_opt_in=opted_in,
                center_site_codes=tuple(site_codes),
                grants=tuple(grants),
            )
        )
    return instructors


def _proctors(planner: _Planner, centers: Sequence[PlannedCenter]) -> list[PlannedProctor]:
    proctors: list[PlannedProctor] = []
    for center in centers:
        roles = ["SITE_COORDINATOR"] + ["PROCTOR"] * planner.rng.randint(0, 2)
        for role in roles:
            given, family = planner.person()
            proctors.append(
                PlannedProctor(
                    center_site_code=center.site_code,
                    given_name=given,
                    family_name=family,
                    email=f"{given}.{family}.{len(proctors) + 1:05d}@proctors.example.org".lower(),
                    role=role,
                )
            )
    return proctors


def plan_network(*, day: date, seed: int = SEED) -> NetworkPlan:
    planner = _Planner(seed, day)
    places = zip_places()
    area_codes = {p.zip_code: p.area_code for ps in places.values() for p in ps if p.area_code}
    centers = _assign_operators(
        planner.rng, _us_centers(planner, places) + _centers_abroad(planner)
    )
    organizations = tuple(
        [(name, "SCHOOL") for name in SCHOOL_NETWORKS]
        + [(name, "EMPLOYER") for name in EMPLOYER_NETWORKS]
        + [(INTERNATIONAL_NETWORK, "SCHOOL")]
    )
    return NetworkPlan(
        day=day,
        organizations=organizations,
        centers=tuple(centers),
        instructors=tuple(_instructors(planner, centers, area_codes)),
        proctors=tuple(_proctors(planner, centers)),
    )
