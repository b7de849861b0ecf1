"""What the OneRoster 1.2 CSV binding says about the files the registry reads.

A bundle is a zip of CSV files under a ``manifest.csv`` (``propertyName,value``) that gives
``manifest.version`` 1.0, ``oneroster.version`` 1.2, and for each file of the binding
``file.<name>`` as ``absent``, ``bulk`` (the whole data set) or ``delta`` (changes since the
last export: each row then carries ``status``, ``active`` or ``tobedeleted``, and
``dateLastModified``).

Only the files that carry results, and those results point into, are read; the others a
manifest may list (demographics, resources, score scales...) are accepted and ignored. For each
file read: the columns a header must have, the type of every column checked, and the
references between files (a result's line item and student, a line item's class, a class's
course and school).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

MANIFEST = "manifest.csv"
MANIFEST_VERSION = "1.0"
ONEROSTER_VERSION = "1.2"
MODES = ("absent", "bulk", "delta")

# Every data file of the 1.2 binding: the manifest may name each as file.<name>.
DATA_FILES = (
    "academicSessions",
    "categories",
    "classes",
    "classResources",
    "courses",
    "courseResources",
    "demographics",
    "enrollments",
    "lineItemLearningObjectiveIds",
    "lineItems",
    "lineItemScoreScales",
    "orgs",
    "resources",
    "resultLearningObjectiveIds",
    "results",
    "resultScoreScales",
    "roles",
    "scoreScales",
    "userProfiles",
    "userResources",
    "users",
)
# Without these there is nothing to record: results, and the line items that scale them.
NEEDED_FILES = ("results", "lineItems")

STATUSES = ("active", "tobedeleted")
SCORE_STATUSES = ("exempt", "fully graded", "not submitted", "partially graded", "submitted")
FULLY_GRADED = "fully graded"
ROLES = (
    "administrator",
    "aide",
    "guardian",
    "parent",
    "proctor",
    "relative",
    "student",
    "teacher",
)
ORG_TYPES = ("department", "school", "district", "local", "state", "national")


class Type(StrEnum):
    TEXT = "text"
    ID = "id"  # a sourcedId: non-empty text
    DATE = "date"  # YYYY-MM-DD
    DATETIME = "datetime"  # ISO 8601 with a time zone
    DATE_OR_DATETIME = "date or datetime"
    FLOAT = "float"
    BOOLEAN = "boolean"
    STATUS = "status"
    SCORE_STATUS = "scoreStatus"
    ROLE = "role"
    ORG_TYPE = "org type"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: Type = Type.TEXT
    required: bool = False  # a value in every row (else the column may be blank)
    # The file whose sourcedId this column names (a reference).
    refers_to: str | None = None


@dataclass(frozen=True, slots=True)
class FileSpec:
    name: str  # as in the manifest: "lineItems" is lineItems.csv
    columns: tuple[Column, ...]
    # Columns a header must have; the others are read when present.
    header: tuple[str, ...] = field(default=())

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


def _common(*columns: Column) -> tuple[Column, ...]:
    return (
        Column("sourcedId", Type.ID, required=True),
        Column("status", Type.STATUS),
        Column("dateLastModified", Type.DATETIME),
        *columns,
    )


_ALWAYS = ("sourcedId", "status", "dateLastModified")

FILES: dict[str, FileSpec] = {
    spec.name: spec
    for spec in (
        FileSpec(
            "orgs",
            _common(
                Column("name", required=True),
                Column("type", Type.ORG_TYPE, required=True),
                Column("identifier"),
                Column("parentSourcedId", Type.ID, refers_to="orgs"),
            ),
            header=(*_ALWAYS, "name", "type"),
        ),
        FileSpec(
            "courses",
            _common(
                Column("title", required=True),
                Column("courseCode"),
                Column("orgSourcedId", Type.ID, required=True, refers_to="orgs"),
            ),
            header=(*_ALWAYS, "title", "orgSourcedId"),
        ),
        FileSpec(
            "classes",
            _common(
                Column("title", required=True),
                Column("courseSourcedId", Type.ID, required=True, refers_to="courses"),
                Column("classCode"),
                Column("schoolSourcedId", Type.ID, required=True, refers_to="orgs"),
            ),
            header=(*_ALWAYS, "title", "courseSourcedId", "schoolSourcedId"),
        ),
        FileSpec(
            "users",
            _common(
                Column("enabledUser", Type.BOOLEAN),
                Column("givenName", required=True),
                Column("familyName", required=True),
                Column("email"),
                Column("identifier"),
            ),
            header=(*_ALWAYS, "givenName", "familyName"),
        ),
        FileSpec(
            "roles",
            _common(
                Column("userSourcedId", Type.ID, required=True, refers_to="users"),
                Column("role", Type.ROLE, required=True),
                Column("orgSourcedId", Type.ID, required=True, refers_to="orgs"),
            ),
            header=(*_ALWAYS, "userSourcedId", "role", "orgSourcedId"),
        ),
        FileSpec(
            "enrollments",
            _common(
                Column("classSourcedId", Type.ID, required=True, refers_to="classes"),
                Column("schoolSourcedId", Type.ID, required=True, refers_to="orgs"),
                Column("userSourcedId", Type.ID, required=True, refers_to="users"),
                Column("role", Type.ROLE, required=True),
                Column("primary", Type.BOOLEAN),
                Column("beginDate", Type.DATE),
                Column("endDate", Type.DATE),
            ),
            header=(*_ALWAYS, "classSourcedId", "schoolSourcedId", "userSourcedId", "role"),
        ),
        FileSpec(
            "lineItems",
            _common(
                Column("title", required=True),
                Column("assignDate", Type.DATE_OR_DATETIME),
                Column("dueDate", Type.DATE_OR_DATETIME),
                Column("classSourcedId", Type.ID, required=True, refers_to="classes"),
                Column("schoolSourcedId", Type.ID, refers_to="orgs"),
                Column("resultValueMin", Type.FLOAT, required=True),
                Column("resultValueMax", Type.FLOAT, required=True),
            ),
            header=(*_ALWAYS, "title", "classSourcedId", "resultValueMin", "resultValueMax"),
        ),
        FileSpec(
            "results",
            _common(
                Column("lineItemSourcedId", Type.ID, required=True, refers_to="lineItems"),
                Column("studentSourcedId", Type.ID, required=True, refers_to="users"),
                Column("scoreStatus", Type.SCORE_STATUS, required=True),
                Column("score", Type.FLOAT),
                Column("scoreDate", Type.DATE_OR_DATETIME),
                Column("comment"),
            ),
            header=(
                *_ALWAYS,
                "lineItemSourcedId",
                "studentSourcedId",
                "scoreStatus",
                "score",
                "scoreDate",
            ),
        ),
    )
}
# The order files are read in: each after those it refers to.
READ_ORDER = ("orgs", "courses", "classes", "users", "roles", "enrollments", "lineItems", "results")
