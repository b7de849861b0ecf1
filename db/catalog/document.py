"""The catalog file format: TOML validated into typed documents before anything is written."""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

REFERENCE_CATALOG_DIR = Path(__file__).parent / "reference"

Code = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{1,31}$")]
Cents = Annotated[int, Field(ge=0, le=10_000_000)]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)]
CreditHours = Annotated[Decimal, Field(ge=0, le=99, max_digits=4, decimal_places=1)]


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
    wait_days: int = Field(ge=0, le=365)
    long_wait_days: int = Field(ge=0, le=730)
    failures_before_long_wait: int = Field(ge=1, le=20)

    @model_validator(mode="after")
    def _long_wait_is_longer(self) -> RetakePolicy:
        if self.long_wait_days < self.wait_days:
            raise ValueError("long_wait_days must be at least wait_days")
        return self


class ProgramDoc(_Strict):
    code: Code
    name: str = Field(min_length=1)


class ActivityDoc(_Strict):
    title: str = Field(min_length=1)
    sub_systems: tuple[str, ...] = ()


class ModuleDoc(_Strict):
    code: Code
    program: Code
    name: str = Field(min_length=1)
    question_count: int | None = Field(default=None, ge=1, le=1000)
    time_limit_minutes: int = Field(ge=1, le=600)
    cut_score_percent: Percent | None = None
    college_credit_hours: CreditHours | None = None
    required_for_certification: bool
    assessment_fee_cents: Cents
    course_supplement_fee_cents: Cents
    key_work_activities: tuple[str | ActivityDoc, ...] = Field(min_length=1)

    def activities(self) -> list[ActivityDoc]:
        return [
            a if isinstance(a, ActivityDoc) else ActivityDoc(title=a)
            for a in self.key_work_activities
        ]


class CredentialTypeDoc(_Strict):
    code: Code
    program: Code
    name: str = Field(min_length=1)
    kind: Literal["MODULE_CERTIFICATE", "CERTIFICATE", "CERTIFICATION"]
    validity_years: int | None = Field(default=None, ge=1, le=50)
    required_modules: tuple[Code, ...] = Field(min_length=1)
    prerequisite: Code | None = None
    college_credit_hours: CreditHours | None = None


class CourseDoc(_Strict):
    code: str = Field(pattern=r"^[A-Za-z0-9.-]{1,32}$")
    name: str = Field(min_length=1)
    modules: tuple[Code, ...] = Field(min_length=1)


class CatalogDocument(_Strict):
    label: str = Field(pattern=r"^[A-Za-z0-9._-]{1,40}$")
    effective_from: date
    registration_fee_cents: Cents
    retake_policy: RetakePolicy
    programs: tuple[ProgramDoc, ...] = Field(min_length=1)
    modules: tuple[ModuleDoc, ...] = Field(min_length=1)
    credential_types: tuple[CredentialTypeDoc, ...] = Field(min_length=1)
    courses: tuple[CourseDoc, ...] = ()

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

    @property
    def digest(self) -> str:
        """A fingerprint of the content, independent of the file's formatting."""
        canonical = orjson.dumps(self.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(canonical).hexdigest()


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
        raise CatalogFileError(
            message + suffix, field=[str(part) for part in first["loc"]]
        ) from None


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
