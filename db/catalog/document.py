"""The catalog file format: TOML validated into typed documents before anything is written."""

from __future__ import annotations

import hashlib
import tomllib
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
    """A catalog file is unreadable or invalid; the message names the file and the field."""


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
        programs = _unique("program", [p.code for p in self.programs])
        modules = _unique("module", [m.code for m in self.modules])
        types = _unique("credential type", [t.code for t in self.credential_types])
        _unique("course", [c.code for c in self.courses])
        for module in self.modules:
            _known("module", module.code, "program", module.program, programs)
        for ctype in self.credential_types:
            _known("credential type", ctype.code, "program", ctype.program, programs)
            for code in ctype.required_modules:
                _known("credential type", ctype.code, "module", code, modules)
            if ctype.prerequisite is not None:
                _known("credential type", ctype.code, "prerequisite", ctype.prerequisite, types)
                if ctype.prerequisite == ctype.code:
                    raise ValueError(f"credential type {ctype.code} is its own prerequisite")
        for course in self.courses:
            for code in course.modules:
                _known("course", course.code, "module", code, modules)
        return self

    @property
    def digest(self) -> str:
        """A fingerprint of the content, independent of the file's formatting."""
        canonical = orjson.dumps(self.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(canonical).hexdigest()


def _unique(what: str, codes: list[str]) -> set[str]:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise ValueError(f"{what} {code} appears twice")
        seen.add(code)
    return seen


def _known(owner: str, code: str, field: str, ref: str, known: set[str]) -> None:
    if ref not in known:
        raise ValueError(f"{owner} {code} names unknown {field} {ref}")


def read_catalog_file(path: Path) -> CatalogDocument:
    try:
        # Cut scores are read as written: a float would make 75.999999999999999 the cut 76.
        raw = tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except OSError as error:
        raise CatalogFileError(f"{path}: cannot read ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise CatalogFileError(f"{path}: not valid TOML ({error})") from None
    try:
        return CatalogDocument.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(document)"
        raise CatalogFileError(
            f"{path}: {where}: {first['msg']} ({error.error_count()} problem(s) in all)"
        ) from None


def reference_catalog_files() -> list[Path]:
    return sorted(REFERENCE_CATALOG_DIR.glob("*.toml"))
