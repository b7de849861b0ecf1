"""A published version written back as a catalog document (the JSON equivalent of its file).

Staff start a new version from the one in force: export it, change the label, the effective
date and the numbers, publish it. Publishing the export unchanged under a new label and date
changes nothing but the date, which ``catalogDiff`` shows.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from db.catalog.versions import CatalogSnapshot


def catalog_document(catalog: CatalogSnapshot) -> dict[str, Any]:
    type_codes = {t.id: t.code for t in catalog.credential_types}
    module_codes = {m.id: m.code for m in catalog.modules}
    policy = catalog.retake_policy
    return {
        "label": catalog.label,
        "effective_from": catalog.effective_from.isoformat(),
        "registration_fee_cents": catalog.registration_fee_cents,
        "retake_policy": {
            "wait_days": policy.wait_days,
            "long_wait_days": policy.long_wait_days,
            "failures_before_long_wait": policy.failures_before_long_wait,
        },
        "programs": [{"code": p.code, "name": p.name} for p in catalog.programs],
        "modules": [
            {
                "code": m.code,
                "program": m.program.code,
                "name": m.name,
                "question_count": m.question_count,
                "time_limit_minutes": m.time_limit_minutes,
                "cut_score_percent": _number(m.cut_score_percent),
                "college_credit_hours": _number(m.college_credit_hours),
                "required_for_certification": m.required_for_certification,
                "assessment_fee_cents": m.assessment_fee_cents,
                "course_supplement_fee_cents": m.course_supplement_fee_cents,
                "key_work_activities": [
                    {"title": a.title, "sub_systems": list(a.sub_systems)}
                    if a.sub_systems
                    else a.title
                    for a in m.activities
                ],
            }
            for m in catalog.modules
        ],
        "credential_types": [
            {
                "code": t.code,
                "program": t.program.code,
                "name": t.name,
                "kind": t.kind,
                "validity_years": t.validity_years,
                "required_modules": [module_codes[i] for i in t.required_module_ids],
                "prerequisite": type_codes.get(t.prerequisite_id) if t.prerequisite_id else None,
                "college_credit_hours": _number(t.college_credit_hours),
            }
            for t in catalog.credential_types
        ],
        "courses": [
            {"code": code, "name": catalog.course_names.get(code, code), "modules": list(codes)}
            for code, codes in catalog.courses.items()
        ],
    }


def _number(value: Decimal | None) -> str | None:
    # As text, so 72.5 stays exactly 72.5 (a JSON float need not); the document reads either.
    return None if value is None else f"{value.normalize():f}"
