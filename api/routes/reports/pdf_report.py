"""The diagnostic report as a one-page PDF (fpdf2): the cohort per module, a bar chart of the
gaps per key work activity, and the training plan's costs.

The chart's bars show, for each key work activity, how many candidates scored it below the
module's cut score in their latest attempt, on a scale of the whole cohort. Names of people
are left out: the CSV carries the per-candidate rows.

The PDF core fonts cover Latin-1 only; other characters are folded to their closest Latin-1
form (or "?"), which catalogs and organization names rarely need.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal

from fpdf import FPDF

from db.insights.diagnostics import Diagnostic
from db.registry.scores import shown

PAGE_WIDTH, PAGE_HEIGHT, MARGIN = 215.9, 279.4, 12.0  # US Letter, mm
BAR_COLOR = (192, 57, 43)
TRACK_COLOR = (236, 236, 236)
HEADER_COLOR = (44, 62, 80)
LABEL_WIDTH, BAR_WIDTH = 96.0, 52.0
ROW_HEIGHT_MAX, ROW_HEIGHT_MIN = 4.2, 2.6


def latin1(text: str) -> str:
    folded = "".join(c if ord(c) < 256 else unicodedata.normalize("NFKD", c)[:1] for c in text)
    return folded.encode("latin-1", "replace").decode("latin-1")


def dollars(cents: int) -> str:
    return f"${Decimal(cents) / 100:,.2f}"


def hours(value: Decimal) -> str:
    return f"{value:.1f} h"


class _Page:
    def __init__(self, title: str) -> None:
        self.pdf = FPDF(orientation="P", unit="mm", format="Letter")
        self.pdf.set_auto_page_break(auto=False)
        self.pdf.set_margins(MARGIN, MARGIN, MARGIN)
        self.pdf.set_title(latin1(title))
        self.pdf.set_creator("MSSC registry")
        self.pdf.add_page()
        self.width = PAGE_WIDTH - 2 * MARGIN

    def text(
        self,
        text: str,
        *,
        size: float,
        height: float,
        style: str = "",
        width: float = 0,
        align: str = "L",
        next_line: bool = True,
    ) -> None:
        self.pdf.set_font("Helvetica", style, size)
        self.pdf.cell(
            width,
            height,
            latin1(text),
            align=align,
            new_x="LMARGIN" if next_line else "RIGHT",
            new_y="NEXT" if next_line else "TOP",
        )

    def fitted(self, text: str, width: float) -> str:
        text = latin1(text)
        if self.pdf.get_string_width(text) <= width:
            return text
        while text and self.pdf.get_string_width(text + "...") > width:
            text = text[:-1]
        return text.rstrip() + "..."

    def heading(self, text: str) -> None:
        self.pdf.ln(2)
        self.pdf.set_text_color(*HEADER_COLOR)
        self.text(text, size=10.5, height=6, style="B")
        self.pdf.set_text_color(0, 0, 0)


def render_pdf(
    report: Diagnostic, *, organization_name: str, cohort_name: str | None = None
) -> bytes:
    requirement = report.requirement
    title = f"Diagnostic report: {requirement.program.name} ({requirement.program.code})"
    page = _Page(title)
    pdf = page.pdf
    cohort_size = len(report.candidates)

    page.text(title, size=15, height=8, style="B")
    about = [organization_name]
    if cohort_name:
        about.append(f"cohort {cohort_name}")
    about += [
        f"{cohort_size:,} candidate{'s' if cohort_size != 1 else ''}",
        f"standards and fees of catalog {requirement.catalog_label}",
        f"generated {report.generated_at:%Y-%m-%d %H:%M} UTC",
    ]
    page.text(" | ".join(about), size=8.5, height=5)

    page.heading("Modules the certification requires")
    columns = (88.0, 22.0, 30.0, 28.0, 24.0)
    labels = ("Module", "Certified", "Needing training", "Cost each", "Plan cost")
    for index, label in enumerate(labels):
        page.text(label, size=8, height=5, style="B", width=columns[index], next_line=index == 4)
    items = {item.module.id: item for item in report.plan.items}
    for gap in report.modules:
        item = items.get(gap.module.id)
        pdf.set_font("Helvetica", "", 8)
        cells = (
            page.fitted(f"{gap.module.name} ({gap.module.code})", columns[0] - 2),
            str(gap.candidates_certified),
            str(gap.candidates_needing_training),
            dollars(gap.module.course_supplement_fee_cents + gap.module.assessment_fee_cents),
            dollars(item.cost_cents) if item else "",
        )
        for index, cell in enumerate(cells):
            page.text(cell, size=8, height=4.6, width=columns[index], next_line=index == 4)

    page.heading("Gaps per key work activity: candidates below the cut score (latest attempt)")
    rows = sum(1 + len(gap.activities) for gap in report.modules)
    plan_height = 12 + 4.6 * (len(report.plan.items) + 5)
    room = PAGE_HEIGHT - MARGIN - pdf.get_y() - plan_height
    row_height = max(min(room / max(rows, 1), ROW_HEIGHT_MAX), ROW_HEIGHT_MIN)
    font = min(7.5, row_height * 1.9)
    for gap in report.modules:
        cut = gap.module.cut_score_percent
        header = f"{gap.module.name} ({gap.module.code})" + (
            f", cut score {cut.normalize():f}%" if cut is not None else ", no cut score set"
        )
        page.text(header, size=font, height=row_height, style="B")
        for activity in gap.activities:
            y = pdf.get_y()
            pdf.set_font("Helvetica", "", font)
            label = page.fitted(
                f"{activity.activity.number}. {activity.activity.title}", LABEL_WIDTH - 2
            )
            pdf.set_xy(MARGIN, y)
            pdf.cell(LABEL_WIDTH, row_height, label)
            bar_x, bar_y, bar_h = MARGIN + LABEL_WIDTH, y + row_height * 0.15, row_height * 0.7
            pdf.set_fill_color(*TRACK_COLOR)
            pdf.rect(bar_x, bar_y, BAR_WIDTH, bar_h, style="F")
            if activity.candidates_below_standard:
                pdf.set_fill_color(*BAR_COLOR)
                share = activity.candidates_below_standard / max(cohort_size, 1)
                pdf.rect(bar_x, bar_y, BAR_WIDTH * share, bar_h, style="F")
            mean = (
                f", mean {shown(activity.mean_score_percent, 1)}%"
                if activity.mean_score_percent is not None
                else ""
            )
            pdf.set_xy(bar_x + BAR_WIDTH + 2, y)
            pdf.cell(
                0,
                row_height,
                latin1(
                    f"{activity.candidates_below_standard} of {activity.candidates_scored} "
                    f"scored{mean}"
                ),
            )
            pdf.set_xy(MARGIN, y + row_height)

    plan = report.plan
    page.heading("Training plan: course supplement and assessment for each needed module")
    for item in plan.items:
        page.text(
            f"{item.module.name} ({item.module.code})",
            size=8,
            height=4.6,
            width=90,
            next_line=False,
        )
        page.text(
            f"{len(item.candidates)} x {dollars(item.cost_per_candidate_cents)}",
            size=8,
            height=4.6,
            width=40,
            next_line=False,
        )
        page.text(dollars(item.cost_cents), size=8, height=4.6, width=30, align="R")
    for label, value, style in (
        ("Targeted training (this plan)", dollars(plan.total_cost_cents), "B"),
        ("Training everyone on every module", dollars(plan.untargeted_cost_cents), ""),
        ("Savings", dollars(plan.savings_cents), "B"),
        ("College credit the plan would earn", hours(plan.college_credit_hours), ""),
    ):
        page.text(label, size=8, height=4.6, width=130, style=style, next_line=False)
        page.text(value, size=8, height=4.6, width=30, style=style, align="R")
    return bytes(pdf.output())
