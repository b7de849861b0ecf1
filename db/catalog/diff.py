"""What changed between two catalog versions: every value, by a path that names it by code.

A version is flattened into ``path → value`` with elements keyed by their codes rather than
their positions (``modules.CLA.cut_score_percent``, ``credential_types.CLT.prerequisite``), so
a module moved in the file is no change, and one added or removed shows each of its values
appearing or disappearing. Values are text as a document would write them (``72.5``, ``true``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from db.catalog.versions import CatalogSnapshot, snapshot_document


@dataclass(frozen=True, slots=True)
class CatalogChange:
    path: str
    before: str | None  # None: absent, or empty, in that version
    after: str | None


def catalog_changes(before: CatalogSnapshot, after: CatalogSnapshot) -> list[CatalogChange]:
    old, new = dict(flatten(before)), dict(flatten(after))
    paths = list(old) + [path for path in new if path not in old]
    return [
        CatalogChange(path, old.get(path), new.get(path))
        for path in paths
        if old.get(path) != new.get(path)
    ]


def flatten(catalog: CatalogSnapshot) -> Iterator[tuple[str, str | None]]:
    """The version's canonical form (the one the export writes and publishing compares),
    path by path."""
    content = snapshot_document(catalog).canonical()
    yield "effective_from", content["effective_from"]
    yield "registration_fee_cents", _text(content["registration_fee_cents"])
    for key, value in content["retake_policy"].items():
        yield f"retake_policy.{key}", _text(value)
    for program in content["programs"]:
        yield f"programs.{program['code']}.name", program["name"]
    for module in content["modules"]:
        at = f"modules.{module['code']}"
        for key in (
            "program",
            "name",
            "question_count",
            "time_limit_minutes",
            "cut_score_percent",
            "college_credit_hours",
            "required_for_certification",
            "assessment_fee_cents",
            "course_supplement_fee_cents",
        ):
            yield f"{at}.{key}", _text(module[key])
        for number, activity in enumerate(module["key_work_activities"], start=1):
            title, sub_systems = (
                (activity, [])
                if isinstance(activity, str)
                else (activity["title"], activity["sub_systems"])
            )
            yield f"{at}.key_work_activities.{number}.title", title
            if sub_systems:
                yield f"{at}.key_work_activities.{number}.sub_systems", "; ".join(sub_systems)
    for ctype in content["credential_types"]:
        at = f"credential_types.{ctype['code']}"
        for key in ("program", "name", "kind", "validity_years", "college_credit_hours"):
            yield f"{at}.{key}", _text(ctype[key])
        yield f"{at}.required_modules", ", ".join(ctype["required_modules"])
        yield f"{at}.prerequisite", ctype["prerequisite"]
    for course in content["courses"]:
        yield f"courses.{course['code']}.name", course["name"]
        yield f"courses.{course['code']}.modules", ", ".join(course["modules"])


def _text(value: str | int | bool | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
