"""The catalog file format: TOML validated into typed documents before anything is written."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

REFERENCE_CATALOG_DIR = Path(__file__).parent / "reference"

# A catalog is a few dozen modules (the reference file is under 9 KB): anything near this is
# a mistake, refused before it is parsed.
MAX_DOCUMENT_BYTES = 256 * 1024
MAX_ACTIVITIES_PER_MODULE = 50
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _printable(text: str) -> str:
    # PostgreSQL text cannot hold U+0000, and no name or title needs a tab or a newline.
    found = _CONTROL_CHARACTERS.search(text)
    if found is not None:
        raise ValueError(
            f"contains the control character U+{ord(found.group()):04X} at position "
            f"{found.start()}; text may not contain control characters"
        )
    return text


def _day(value: object) -> object:
    # TOML has dates; JSON writes them as YYYY-MM-DD text. Nothing else is a day: not a
    # number of seconds, not a date and time.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value} is not a day of the calendar") from None
    raise ValueError("Input should be a date (YYYY-MM-DD)")


def _exact_decimal(value: object) -> object:
    # A decimal is written as a number or as its text ("72.5", as the export writes it, so
    # it stays exact through any JSON tool); true is not 1 and "1e2" is not 100.
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise ValueError('Input should be a decimal number, or its text such as "72.5"')
    if isinstance(value, str):
        if not re.fullmatch(r"[0-9]{1,6}(\.[0-9]{1,6})?", value):
            raise ValueError('Input should be a decimal number, or its text such as "72.5"')
        return Decimal(value)
    return value


Code = Annotated[StrictStr, Field(pattern=r"^[A-Z][A-Z0-9_]{1,31}$")]
Name = Annotated[StrictStr, Field(min_length=1, max_length=200), AfterValidator(_printable)]
Title = Annotated[StrictStr, Field(min_length=1, max_length=500), AfterValidator(_printable)]
Day = Annotated[date, BeforeValidator(_day)]
Cents = Annotated[StrictInt, Field(ge=0, le=10_000_000)]
Percent = Annotated[
    Decimal, BeforeValidator(_exact_decimal), Field(ge=0, le=100, max_digits=5, decimal_places=2)
]
CreditHours = Annotated[
    Decimal, BeforeValidator(_exact_decimal), Field(ge=0, le=99, max_digits=4, decimal_places=1)
]


class CatalogFileError(ValueError):
    """A catalog document is unreadable, invalid or cannot be published.

    ``field`` is the path of the offending value in the document (``modules.0.cut_score_percent``
    as parts), empty when the whole document is at fault; ``problem`` says what is wrong. The
    command line prints ``str(error)``, GraphQL answers ``field`` and ``problem`` as a user error,
    so both say the same thing.
    """

    def __init__(self, problem: str, *, field: Sequence[str] = (), source: str = "") -> None:
        self.problem = problem
        self.field = tuple(field)
        self.source = source
        where = ".".join(self.field)
        super().__init__(": ".join(part for part in (source, where, problem) if part))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetakePolicy(_Strict):
    wait_days: StrictInt = Field(ge=0, le=365)
    long_wait_days: StrictInt = Field(ge=0, le=730)
    failures_before_long_wait: StrictInt = Field(ge=1, le=20)

    @model_validator(mode="after")
    def _long_wait_is_longer(self) -> RetakePolicy:
        if self.long_wait_days < self.wait_days:
            raise ValueError("long_wait_days must be at least wait_days")
        return self


class ProgramDoc(_Strict):
    code: Code
    name: Name


class ActivityDoc(_Strict):
    title: Title
    sub_systems: tuple[Name, ...] = Field(default=(), max_length=50)


class ModuleDoc(_Strict):
    code: Code
    program: Code
    name: Name
    question_count: StrictInt | None = Field(default=None, ge=1, le=1000)
    time_limit_minutes: StrictInt = Field(ge=1, le=600)
    cut_score_percent: Percent | None = None
    college_credit_hours: CreditHours | None = None
    required_for_certification: StrictBool
    assessment_fee_cents: Cents
    course_supplement_fee_cents: Cents
    key_work_activities: tuple[Title | ActivityDoc, ...] = Field(
        min_length=1, max_length=MAX_ACTIVITIES_PER_MODULE
    )

    def activities(self) -> list[ActivityDoc]:
        return [
            a if isinstance(a, ActivityDoc) else ActivityDoc(title=a)
            for a in self.key_work_activities
        ]


class CredentialTypeDoc(_Strict):
    code: Code
    program: Code
    name: Name
    kind: Literal["MODULE_CERTIFICATE", "CERTIFICATE", "CERTIFICATION"]
    validity_years: StrictInt | None = Field(default=None, ge=1, le=50)
    required_modules: tuple[Code, ...] = Field(min_length=1, max_length=200)
    prerequisite: Code | None = None
    college_credit_hours: CreditHours | None = None


class CourseDoc(_Strict):
    code: StrictStr = Field(pattern=r"^[A-Za-z0-9.-]{1,32}$")
    name: Name
    modules: tuple[Code, ...] = Field(min_length=1, max_length=200)


class CatalogDocument(_Strict):
    label: StrictStr = Field(pattern=r"^[A-Za-z0-9._-]{1,40}$")
    effective_from: Day
    registration_fee_cents: Cents
    retake_policy: RetakePolicy
    programs: tuple[ProgramDoc, ...] = Field(min_length=1, max_length=200)
    modules: tuple[ModuleDoc, ...] = Field(min_length=1, max_length=200)
    credential_types: tuple[CredentialTypeDoc, ...] = Field(min_length=1, max_length=200)
    courses: tuple[CourseDoc, ...] = Field(default=(), max_length=5000)

    @model_validator(mode="after")
    def _references_resolve(self) -> CatalogDocument:
        # Each refusal names the element it refuses, so a caller is sent to the exact line.
        programs = _unique("program", "programs", [p.code for p in self.programs])
        modules = _unique("module", "modules", [m.code for m in self.modules])
        types = _unique(
            "credential type", "credential_types", [t.code for t in self.credential_types]
        )
        _unique("course", "courses", [c.code for c in self.courses])
        for n, module in enumerate(self.modules):
            _known(("modules", n, "program"), module.program, programs, "program")
        for n, ctype in enumerate(self.credential_types):
            _known(("credential_types", n, "program"), ctype.program, programs, "program")
            for m, code in enumerate(ctype.required_modules):
                _known(("credential_types", n, "required_modules", m), code, modules, "module")
            if ctype.prerequisite is not None:
                where = ("credential_types", n, "prerequisite")
                _known(where, ctype.prerequisite, types, "prerequisite")
                if ctype.prerequisite == ctype.code:
                    raise _refusal(where, f"credential type {ctype.code} is its own prerequisite")
        prerequisites = {t.code: t.prerequisite for t in self.credential_types}
        for n, ctype in enumerate(self.credential_types):
            chain, current = [ctype.code], prerequisites.get(ctype.code)
            while current is not None:
                if current in chain:
                    where = ("credential_types", n, "prerequisite")
                    raise _refusal(
                        where, "prerequisites form a cycle: " + " → ".join([*chain, current])
                    )
                chain.append(current)
                current = prerequisites.get(current)
        for n, course in enumerate(self.courses):
            for m, code in enumerate(course.modules):
                _known(("courses", n, "modules", m), code, modules, "module")
        return self

    def canonical(self) -> dict[str, Any]:
        """The content in one form, JSON-ready: what "the same version" means to publishing,
        and what the export writes and ``catalogDiff`` compares.

        Programs, modules, credential types and courses are sets keyed by their codes, and so
        are the modules a credential type requires and a course aligns to: each is sorted, so
        a file that lists them in another order is the same version. Key work activities are
        numbered by their place, so they keep it. A program that no module or credential type
        names is not kept by the registry, so it is no part of the content.
        """
        named = {m.program for m in self.modules} | {t.program for t in self.credential_types}
        return {
            "label": self.label,
            "effective_from": self.effective_from.isoformat(),
            "registration_fee_cents": self.registration_fee_cents,
            "retake_policy": self.retake_policy.model_dump(),
            "programs": [
                {"code": p.code, "name": p.name}
                for p in sorted(self.programs, key=_code)
                if p.code in named
            ],
            "modules": [
                {
                    "code": m.code,
                    "program": m.program,
                    "name": m.name,
                    "question_count": m.question_count,
                    "time_limit_minutes": m.time_limit_minutes,
                    "cut_score_percent": _decimal_text(m.cut_score_percent),
                    "college_credit_hours": _decimal_text(m.college_credit_hours),
                    "required_for_certification": m.required_for_certification,
                    "assessment_fee_cents": m.assessment_fee_cents,
                    "course_supplement_fee_cents": m.course_supplement_fee_cents,
                    "key_work_activities": [
                        {"title": a.title, "sub_systems": list(a.sub_systems)}
                        if a.sub_systems
                        else a.title
                        for a in m.activities()
                    ],
                }
                for m in sorted(self.modules, key=_code)
            ],
            "credential_types": [
                {
                    "code": t.code,
                    "program": t.program,
                    "name": t.name,
                    "kind": t.kind,
                    "validity_years": t.validity_years,
                    "required_modules": sorted(t.required_modules),
                    "prerequisite": t.prerequisite,
                    "college_credit_hours": _decimal_text(t.college_credit_hours),
                }
                for t in sorted(self.credential_types, key=_code)
            ],
            "courses": [
                {"code": c.code, "name": c.name, "modules": sorted(c.modules)}
                for c in sorted(self.courses, key=_code)
            ],
        }

    @property
    def digest(self) -> str:
        """A fingerprint of the content: of its canonical form, so neither the file's
        formatting nor the order of its sets changes it."""
        canonical = orjson.dumps(self.canonical(), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(canonical).hexdigest()


def _code(element: ProgramDoc | ModuleDoc | CredentialTypeDoc | CourseDoc) -> str:
    return element.code


def _decimal_text(value: Decimal | None) -> str | None:
    # As text, so 72.5 stays exactly 72.5 (a JSON float need not); 76.00 is the 76 written.
    return None if value is None else f"{value.normalize():f}"


def _refusal(where: Sequence[str | int], problem: str) -> CatalogFileError:
    return CatalogFileError(problem, field=[str(part) for part in where])


def _unique(what: str, key: str, codes: list[str]) -> set[str]:
    seen: set[str] = set()
    for n, code in enumerate(codes):
        if code in seen:
            raise _refusal((key, n, "code"), f"{what} {code} appears twice")
        seen.add(code)
    return seen


def _known(where: Sequence[str | int], ref: str, known: set[str], what: str) -> None:
    if ref not in known:
        raise _refusal(where, f"names unknown {what} {ref}")


DocumentFormat = Literal["TOML", "JSON"]


def parse_catalog_document(text: str, *, format: DocumentFormat = "TOML") -> CatalogDocument:
    """The one validation of a catalog document, for the command line and GraphQL alike.

    JSON is the TOML document's equivalent: the same keys, dates as ``YYYY-MM-DD`` strings.
    """
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_DOCUMENT_BYTES:
        raise CatalogFileError(
            f"the document is {size} bytes; a catalog may be at most {MAX_DOCUMENT_BYTES}"
        )
    try:
        if format == "JSON":
            orjson.loads(text)  # the strict reader first: no NaN, no lone surrogates
            # Cut scores are read as written: a float would make 75.999999999999999 the cut 76.
            raw = json.loads(text, parse_float=Decimal)
        else:
            raw = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as error:
        raise CatalogFileError(f"not valid TOML ({error})") from None
    except RecursionError:
        # tomllib recurses per nested array or table; a catalog is a few levels deep.
        raise CatalogFileError(f"not valid {format} (nested too deeply)") from None
    except orjson.JSONDecodeError as error:
        raise CatalogFileError(f"not valid JSON ({error})") from None
    if not isinstance(raw, dict):
        raise CatalogFileError("the document must be a table (a JSON object)")
    try:
        return CatalogDocument.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        count = error.error_count()
        suffix = f" ({count} problem(s) in all)" if count > 1 else ""
        cause = first.get("ctx", {}).get("error")
        if isinstance(cause, CatalogFileError):  # a cross-reference, refused with its path
            raise CatalogFileError(cause.problem + suffix, field=cause.field) from None
        message = str(first["msg"]).removeprefix("Value error, ")
        raise CatalogFileError(message + suffix, field=_document_path(first["loc"])) from None


def _document_path(loc: Sequence[str | int]) -> list[str]:
    # Pydantic names the member of a union it tried (a key work activity is text, named
    # "function-after[...]", or an ActivityDoc table) among the keys; the caller is sent to a
    # place in the document, which has no such key. An unknown key is kept: it is the place.
    return [
        str(part)
        for part in loc
        if isinstance(part, int) or ("[" not in part and part != ActivityDoc.__name__)
    ]


def read_catalog_file(path: Path) -> CatalogDocument:
    """A catalog file: JSON when it is named ``*.json``, TOML otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise CatalogFileError(f"cannot read ({reason})", source=str(path)) from None
    format: DocumentFormat = "JSON" if path.suffix.lower() == ".json" else "TOML"
    try:
        return parse_catalog_document(text, format=format)
    except CatalogFileError as error:
        raise CatalogFileError(error.problem, field=error.field, source=str(path)) from None


def reference_catalog_files() -> list[Path]:
    return sorted(REFERENCE_CATALOG_DIR.glob("*.toml"))
