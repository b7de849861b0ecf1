"""The audit trail from the GraphQL side: what each request changed and disclosed.

- :class:`AuditedMutation`, a field extension every mutation carries (``audit_mutations``),
  notes the mutation's name, the record ids it was given and returned, and its outcome: OK,
  USER_ERRORS (with their codes) or ERROR (it raised, and its transaction rolled back).
- Resolvers and the candidate loader note the candidates they disclose on the request's
  :class:`RequestAudit`.
- :class:`WriteAuditTrail`, a schema extension, writes the whole request's audit rows, and
  its employer record reads for the candidates' disclosure log, in one statement at the end.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    OperationDefinitionNode,
)
from strawberry.extensions import SchemaExtension
from strawberry.extensions.field_extension import AsyncExtensionResolver, FieldExtension

from api.schema.node import from_global_id
from auth.principal import Principal
from db.platform.driver import RequestConnection
from db.registry.audit import AuditEntry, record_audit
from db.registry.disclosures import Disclosed

logger = logging.getLogger("mssc.audit")

# Types whose global ids name a record worth auditing (not catalog entries).
AUDITED_TYPES = frozenset(
    {
        "Candidate",
        "Credential",
        "AssessmentResult",
        "ConsentGrant",
        "Cohort",
        "Center",
        "Instructor",
        "Proctor",
        "Organization",
        "Webhook",
        "WebhookDelivery",
    }
)
# Deep enough for payload → outcomes → outcome → credentials → credential → id.
_MAX_DEPTH = 6
_LONGEST_ID = 64


@dataclass(slots=True)
class Affected:
    """Record ids an operation touched: global ids, and candidate primary keys for the filter."""

    record_ids: dict[str, None] = field(default_factory=dict)  # ordered set
    candidate_ids: dict[int, None] = field(default_factory=dict)
    error_codes: dict[str, None] = field(default_factory=dict)

    def add_global_id(self, value: str) -> None:
        decoded = from_global_id(value)
        if decoded is None or decoded[0] not in AUDITED_TYPES:
            return
        self.record_ids[value] = None
        if decoded[0] == "Candidate":
            self.candidate_ids[decoded[1]] = None

    def collect(self, value: object, depth: int = 0) -> None:
        """Ids found in inputs and payloads. Reads ids and error codes only, never values."""
        if depth > _MAX_DEPTH or value is None:
            return
        if isinstance(value, str):
            # Only a string that decodes as one of our ids is kept, so no name, reason or
            # secret ever reaches the trail.
            if len(value) <= _LONGEST_ID:
                self.add_global_id(value)
        elif isinstance(value, list | tuple):
            for item in value:
                self.collect(item, depth + 1)
        elif hasattr(value, "__strawberry_definition__") and dataclasses.is_dataclass(value):
            self._collect_object(value, depth)

    def _collect_object(self, value: Any, depth: int) -> None:
        type_name = value.__strawberry_definition__.name
        if type_name == "UserError":
            self.error_codes[value.code] = None
            return
        if type_name == "Candidate":
            self.candidate_ids[value.pk] = None
        candidate_pk = getattr(value, "candidate_pk", None)
        if isinstance(candidate_pk, int):
            self.candidate_ids[candidate_pk] = None
        for item in dataclasses.fields(value):
            self.collect(getattr(value, item.name, None), depth + 1)


@dataclass(slots=True)
class RequestAudit:
    """What one GraphQL request changed and disclosed, written once when it ends."""

    mutations: list[AuditEntry] = field(default_factory=list)
    disclosed: dict[int, None] = field(default_factory=dict)
    records_read: dict[int, None] = field(default_factory=dict)
    logged: list[Disclosed] = field(default_factory=list)

    def disclose(self, candidate_ids: Iterable[int]) -> None:
        """Candidate data left in this answer (logged by its resolver where it has a kind)."""
        self.disclosed.update(dict.fromkeys(candidate_ids))

    def log(self, disclosure: Disclosed) -> None:
        """Candidate data disclosed to an organization: its disclosure-log rows are written in
        the audit statement, so the answer leaves only once both records are written."""
        self.disclose(disclosure.candidate_ids)
        self.logged.append(disclosure)

    def read_records(self, candidate_ids: Iterable[int]) -> None:
        """Candidate records read: disclosed, and for an employer, RECORD_READ in their log."""
        ids = dict.fromkeys(candidate_ids)
        self.disclosed.update(ids)
        self.records_read.update(ids)

    async def write(
        self,
        database: RequestConnection,
        *,
        principal: Principal | None,
        request_id: str,
        action: str,
    ) -> None:
        entries = list(self.mutations)
        if self.disclosed:
            entries.append(
                AuditEntry(
                    kind="DISCLOSURE",
                    action=action,
                    outcome="OK",
                    request_id=request_id,
                    organization_id=principal.organization_id if principal else None,
                    client_id=principal.client_id if principal else None,
                    candidate_ids=list(self.disclosed),
                )
            )
        if not entries:
            return
        disclosures = list(self.logged)
        if principal is not None and principal.organization_kind == "EMPLOYER":
            record_reads = Disclosed(
                candidate_ids=list(self.records_read),
                organization_id=principal.organization_id,
                client_pk=principal.client_pk,
                kind="RECORD_READ",
                request_id=request_id,
            )
            disclosures.append(record_reads)
        try:
            # One statement, so no transaction around it: one round trip, no BEGIN/COMMIT.
            async with database.use() as connection:
                await record_audit(connection, entries, disclosed=disclosures)
        except Exception:
            # Never silent: the operator finds what went unrecorded under the request id.
            logger.exception(
                "audit trail write failed",
                extra={"actions": [e.action for e in entries], "audit_entries": len(entries)},
            )
            raise
        self.mutations.clear()
        self.disclosed.clear()
        self.records_read.clear()
        self.logged.clear()


class AuditedMutation(FieldExtension):
    """Notes a mutation on the request's audit: name, record ids, outcome."""

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: strawberry.Info, **kwargs: Any
    ) -> Any:
        affected = Affected()
        affected.collect(list(kwargs.values()))
        context = info.context
        principal: Principal | None = context.principal
        outcome = "OK"
        try:
            payload = await next_(source, info, **kwargs)
        except Exception as error:
            outcome = "ERROR"
            code = (getattr(error, "extensions", None) or {}).get("code", "INTERNAL")
            affected.error_codes[str(code)] = None
            raise
        else:
            affected.collect(payload)
            if affected.error_codes:
                outcome = "USER_ERRORS"
            return payload
        finally:
            context.audit.mutations.append(
                AuditEntry(
                    kind="MUTATION",
                    action=info.field_name,
                    outcome=outcome,
                    request_id=context.request_id,
                    organization_id=principal.organization_id if principal else None,
                    client_id=principal.client_id if principal else None,
                    error_codes=list(affected.error_codes),
                    candidate_ids=list(affected.candidate_ids),
                    record_ids=list(affected.record_ids),
                )
            )


def audit_mutations(mutation_type: type) -> None:
    """Gives every field of ``mutation_type`` the audit extension, outermost (so refusals by a
    permission extension are recorded too). Run once, when the type is defined."""
    for mutation in mutation_type.__strawberry_definition__.fields:  # type: ignore[attr-defined]
        if not any(isinstance(e, AuditedMutation) for e in mutation.extensions):
            mutation.extensions.append(AuditedMutation())


class WriteAuditTrail(SchemaExtension):
    """Writes the request's audit rows once it has executed."""

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        audit: RequestAudit | None = getattr(context, "audit", None)
        if audit is None or not (audit.mutations or audit.disclosed):
            return
        await audit.write(
            context.database,
            principal=context.principal,
            request_id=context.request_id,
            action=self._root_fields(),
        )

    def _root_fields(self) -> str:
        document = self.execution_context.graphql_document
        if document is None:
            return "unknown"
        return root_fields(document, self.execution_context.operation_name)


def root_fields(document: DocumentNode, operation_name: str | None) -> str:
    """The operation's root field names, e.g. ``candidates`` or ``node,verifyCredential``."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        if operation_name is not None and (
            definition.name is None or definition.name.value != operation_name
        ):
            continue
        names: dict[str, None] = {}
        # Each fragment is read once however often it is spread: spreads can expand a short
        # document exponentially, and a second reading adds no name.
        spread: set[str] = set()
        selections = deque(definition.selection_set.selections)
        while selections:
            selection = selections.popleft()
            if isinstance(selection, FieldNode):
                if not selection.name.value.startswith("__"):
                    names[selection.name.value] = None
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is not None and selection.name.value not in spread:
                    spread.add(selection.name.value)
                    selections.extend(fragment.selection_set.selections)
            else:
                selections.extend(selection.selection_set.selections)  # type: ignore[attr-defined]
        return ",".join(names) or "unknown"
    return "unknown"
