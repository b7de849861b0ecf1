"""What a catalog version says a credential needs, and what it does not know yet.

A credential type needs its modules passed and, where it names one, a prerequisite credential
held on the day of the assessment (CLT: CLA). A module is needed for a credential directly, or
through that credential's prerequisites: CLA is "not required for certification" in the sense
that the CLT certification's own module is CLT, yet nobody earns CLT without passing CLA.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from db.catalog.versions import CatalogSnapshot, CredentialTypeSpec, ModuleSpec


@dataclass(frozen=True, slots=True)
class Requirement:
    kind: Literal["MODULE_PASSED", "CREDENTIAL_HELD"]
    description: str
    module_id: int | None = None
    credential_type_id: int | None = None


def credential_requirements(
    catalog: CatalogSnapshot, ctype: CredentialTypeSpec
) -> list[Requirement]:
    needs = [
        Requirement(
            kind="MODULE_PASSED",
            module_id=module.id,
            description=(
                f"pass the {module.code} assessment"
                + (
                    f" (cut score {float(module.cut_score_percent):g}%)"
                    if module.cut_score_percent is not None
                    else " (no cut score in this catalog version yet)"
                )
            ),
        )
        for module_id in ctype.required_module_ids
        if (module := catalog.module_by_id(module_id)) is not None
    ]
    if ctype.prerequisite_id is not None:
        held = catalog.credential_type_by_id(ctype.prerequisite_id)
        if held is not None:
            needs.append(
                Requirement(
                    kind="CREDENTIAL_HELD",
                    credential_type_id=held.id,
                    description=(
                        f"hold {held.code} (ACTIVE) on the day the assessment is taken; an "
                        f"assessment taken without it cannot earn {ctype.code}"
                    ),
                )
            )
    return needs


def required_for(catalog: CatalogSnapshot, module_id: int) -> list[CredentialTypeSpec]:
    """Credential types that need the module passed, directly or through a prerequisite."""
    return [
        ctype for ctype in catalog.credential_types if module_id in modules_needed(catalog, ctype)
    ]


def modules_needed(catalog: CatalogSnapshot, ctype: CredentialTypeSpec) -> set[int]:
    """The type's modules and those of its prerequisites, however deep the chain."""
    needed: set[int] = set()
    seen: set[int] = set()
    current: CredentialTypeSpec | None = ctype
    while current is not None and current.id not in seen:
        seen.add(current.id)
        needed.update(current.required_module_ids)
        current = (
            catalog.credential_type_by_id(current.prerequisite_id)
            if current.prerequisite_id is not None
            else None
        )
    return needed


def not_assessable_reason(module: ModuleSpec, catalog_label: str | None) -> str | None:
    """Why a result for the module cannot be judged under the version, or None if it can."""
    if module.cut_score_percent is not None:
        return None
    version = f"catalog version {catalog_label}" if catalog_label else "the catalog version"
    return (
        f"no cut score for {module.code} in {version}: the source documents give none, so "
        "results cannot be judged until staff publish a catalog version that sets one"
    )
