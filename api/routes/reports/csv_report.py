"""The diagnostic report as one CSV table, one fact per row, told apart by ``section``.

Sections, in order: ``candidate`` (one row per candidate and module), ``module`` (the cohort on
each module), ``activity`` (each key work activity of each module), ``plan_item`` (each module
of the training plan) and ``plan`` (the plan's totals). Columns that do not apply to a
section are empty. Money is in integer cents, as in the API.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from db.insights.diagnostics import Diagnostic
from db.platform.csv_cells import csv_document
from db.registry.scores import shown

COLUMNS = (
    "section",
    "registry_number",
    "external_id",
    "given_name",
    "family_name",
    "module_code",
    "module_name",
    "activity_number",
    "activity_title",
    "status",
    "best_score_percent",
    "gap_activities",
    "candidates",
    "candidates_certified",
    "candidates_needing_training",
    "candidates_scored",
    "candidates_below_standard",
    "mean_score_percent",
    "cost_per_candidate_cents",
    "cost_cents",
    "untargeted_cost_cents",
    "savings_cents",
    "college_credit_hours",
)

Cell = str | int | Decimal | None


def _rows(report: Diagnostic) -> Iterator[dict[str, Cell]]:
    for standing in report.candidates:
        person = standing.candidate
        for module in standing.modules:
            yield {
                "section": "candidate",
                "registry_number": person.registry_number,
                "external_id": standing.external_id,
                "given_name": person.given_name,
                "family_name": person.family_name,
                "module_code": module.module.code,
                "module_name": module.module.name,
                "status": module.status,
                "best_score_percent": (
                    None if module.best_score_percent is None else shown(module.best_score_percent)
                ),
                "gap_activities": " ".join(str(a.number) for a in module.gap_activities),
            }
    for gap in report.modules:
        yield {
            "section": "module",
            "module_code": gap.module.code,
            "module_name": gap.module.name,
            "candidates": len(report.candidates),
            "candidates_certified": gap.candidates_certified,
            "candidates_needing_training": gap.candidates_needing_training,
        }
    for gap in report.modules:
        for activity in gap.activities:
            yield {
                "section": "activity",
                "module_code": gap.module.code,
                "module_name": gap.module.name,
                "activity_number": activity.activity.number,
                "activity_title": activity.activity.title,
                "candidates_scored": activity.candidates_scored,
                "candidates_below_standard": activity.candidates_below_standard,
                "mean_score_percent": activity.mean_score_percent,
            }
    plan = report.plan
    for item in plan.items:
        yield {
            "section": "plan_item",
            "module_code": item.module.code,
            "module_name": item.module.name,
            "candidates": len(item.candidates),
            "cost_per_candidate_cents": item.cost_per_candidate_cents,
            "cost_cents": item.cost_cents,
            "college_credit_hours": item.college_credit_hours,
        }
    yield {
        "section": "plan",
        "candidates": len(report.candidates),
        "cost_cents": plan.total_cost_cents,
        "untargeted_cost_cents": plan.untargeted_cost_cents,
        "savings_cents": plan.savings_cents,
        "college_credit_hours": plan.college_credit_hours,
    }


def render_csv(report: Diagnostic) -> str:
    """The report as a CSV file a spreadsheet opens safely (``db/platform/csv_cells.py``)."""
    return csv_document(
        [COLUMNS, *([row.get(column) for column in COLUMNS] for row in _rows(report))]
    )
