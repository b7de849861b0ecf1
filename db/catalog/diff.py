"""What changed between two catalog versions: every value, by a path that names it by code.

A version is flattened into ``path → value`` with elements keyed by their codes rather than
their positions (``modules.CLA.cut_score_percent``, ``credential_types.CLT.prerequisite``), so
a module moved in the file is no change, and one added or removed shows each of its values
appearing or disappearing. Values are text as a document would write them (``72.5``, ``true``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from db.catalog.versions import CatalogSnapshot

Value = str | int | bool | Decimal | None


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
    type_codes = {t.id: t.code for t in catalog.credential_types}
    module_codes = {m.id: m.code for m in catalog.modules}
    yield "effective_from", catalog.effective_from.isoformat()
    yield "registration_fee_cents", _text(catalog.registration_fee_cents)
    policy = catalog.retake_policy
    yield "retake_policy.wait_days", _text(policy.wait_days)
    yield "retake_policy.long_wait_days", _text(policy.long_wait_days)
    yield "retake_policy.failures_before_long_wait", _text(policy.failures_before_long_wait)
    for program in catalog.programs:
        yield f"programs.{program.code}.name", program.name
    for module in catalog.modules:
        at = f"modules.{module.code}"
        yield f"{at}.program", module.program.code
        yield f"{at}.name", module.name
        yield f"{at}.question_count", _text(module.question_count)
        yield f"{at}.time_limit_minutes", _text(module.time_limit_minutes)
        yield f"{at}.cut_score_percent", _text(module.cut_score_percent)
        yield f"{at}.college_credit_hours", _text(module.college_credit_hours)
        yield f"{at}.required_for_certification", _text(module.required_for_certification)
        yield f"{at}.assessment_fee_cents", _text(module.assessment_fee_cents)
        yield f"{at}.course_supplement_fee_cents", _text(module.course_supplement_fee_cents)
        for activity in module.activities:
            yield f"{at}.key_work_activities.{activity.number}.title", activity.title
            if activity.sub_systems:
                yield (
                    f"{at}.key_work_activities.{activity.number}.sub_systems",
                    "; ".join(activity.sub_systems),
                )
    for ctype in catalog.credential_types:
        at = f"credential_types.{ctype.code}"
        yield f"{at}.program", ctype.program.code
        yield f"{at}.name", ctype.name
        yield f"{at}.kind", ctype.kind
        yield f"{at}.validity_years", _text(ctype.validity_years)
        yield f"{at}.college_credit_hours", _text(ctype.college_credit_hours)
        yield (
            f"{at}.required_modules",
            ", ".join(module_codes.get(i, str(i)) for i in ctype.required_module_ids),
        )
        prerequisite = ctype.prerequisite_id
        yield f"{at}.prerequisite", type_codes.get(prerequisite) if prerequisite else None
    for code, modules in catalog.courses.items():
        yield f"courses.{code}.name", catalog.course_names.get(code)
        yield f"courses.{code}.modules", ", ".join(modules)


def _text(value: Value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        # 76.00 as stored is the 76 a document writes; 72.50 is 72.5.
        return f"{value.normalize():f}"
    return str(value)
