"""The demo's own catalog version: the reference catalog plus demo numbers for CLA and CLT.

The source documents give no question counts or cut scores for the logistics program, so the
reference catalog leaves them empty and no CLA or CLT result can be judged. The demo publishes
a version of its own, labelled as demo values, that fills them in so the CLA → CLT path can be
seen working. Nothing outside the demo loads it; the numbers are not the certification body's.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from db.catalog.document import CatalogDocument, read_catalog_file, reference_catalog_files

DEMO_CATALOG_LABEL = "2017-demo-logistics"
# (pub) about 80 questions in 90 to 120 minutes; the cut scores are invented for the demo.
DEMO_LOGISTICS_NUMBERS: dict[str, dict[str, Any]] = {
    "CLA": {"question_count": 80, "time_limit_minutes": 90, "cut_score_percent": Decimal(70)},
    "CLT": {"question_count": 80, "time_limit_minutes": 120, "cut_score_percent": Decimal(72)},
}


def demo_catalog_document() -> CatalogDocument:
    """In force from the day after the reference version, so every demo result is judged by it."""
    reference = read_catalog_file(reference_catalog_files()[0])
    data = reference.model_dump()
    data["label"] = DEMO_CATALOG_LABEL
    data["effective_from"] = reference.effective_from + timedelta(days=1)
    for module in data["modules"]:
        module.update(DEMO_LOGISTICS_NUMBERS.get(module["code"], {}))
    return CatalogDocument.model_validate(data)
