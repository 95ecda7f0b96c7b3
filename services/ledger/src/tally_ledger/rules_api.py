"""Routes of rules: list, create, change, delete, reorder, preview (changes nothing), apply."""

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from tally_ledger import rule_commands
from tally_ledger.repository import Context
from tally_ledger.rules import RuleSpec
from tallykit.app import db_of, settings_of
from tallykit.tokens import CurrentPrincipal, Principal

router = APIRouter()


class RuleUpdate(RuleSpec):
    expected_version: int = Field(ge=1)


class RulePublic(RuleSpec):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: UUID
    position: int
    version: int

    @classmethod
    def of(cls, row: rule_commands.RuleRow) -> "RulePublic":
        return cls.model_validate(
            {**row.spec.model_dump(), "id": row.id, "position": row.position, "version": row.version}
        )


class RulesPublic(BaseModel):
    items: list[RulePublic]


class RuleOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: Annotated[list[UUID], Field(max_length=rule_commands.MAX_RULES)]


class PreviewItemPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    transaction_id: UUID
    booked_on: date
    payee: str
    amount_minor: int
    currency: str
    changes: dict[str, list[Any]]


class PreviewPublic(BaseModel):
    """How many of the newest transactions were looked at, matched, and would change; the first changes."""

    model_config = ConfigDict(from_attributes=True)

    scanned: int
    matched: int
    changed: int
    items: list[PreviewItemPublic]


class AppliedPublic(BaseModel):
    changed: int



def _writer(principal: Principal) -> Context:
    principal.require_write()
    return Context.of(principal)


@router.get("/rules", response_model=RulesPublic)
async def list_rules(principal: CurrentPrincipal, request: Request) -> RulesPublic:
    """The household's rules in the order they run."""
    rows = await rule_commands.list_rules(db_of(request), principal.tenant_id)
    return RulesPublic(items=[RulePublic.of(r) for r in rows])


@router.post("/rules", status_code=201, response_model=RulePublic)
async def create_rule(body: RuleSpec, principal: CurrentPrincipal, request: Request) -> RulePublic:
    """A new rule, run after the existing ones. Regular expressions are checked (length, compile, speed)."""
    return RulePublic.of(await rule_commands.create_rule(db_of(request), _writer(principal), body))


@router.post("/rules/preview", response_model=PreviewPublic)
async def preview_rule(body: RuleSpec, principal: CurrentPrincipal, request: Request) -> PreviewPublic:
    """What a rule (saved or not) would change on existing transactions; changes nothing."""
    result = await rule_commands.preview(db_of(request), Context.of(principal), body)
    return PreviewPublic.model_validate(result)


@router.put("/rules/order", response_model=RulesPublic)
async def reorder_rules(body: RuleOrder, principal: CurrentPrincipal, request: Request) -> RulesPublic:
    """Every rule's id once, in the order they should run."""
    rows = await rule_commands.reorder(db_of(request), _writer(principal), body.ids)
    return RulesPublic(items=[RulePublic.of(r) for r in rows])


@router.get("/rules/{rule_id}", response_model=RulePublic)
async def get_rule(rule_id: UUID, principal: CurrentPrincipal, request: Request) -> RulePublic:
    return RulePublic.of(await rule_commands.get_rule(db_of(request), principal.tenant_id, rule_id))


@router.put("/rules/{rule_id}", response_model=RulePublic)
async def update_rule(
    rule_id: UUID, body: RuleUpdate, principal: CurrentPrincipal, request: Request
) -> RulePublic:
    spec = RuleSpec.model_validate(body.model_dump(exclude={"expected_version"}))
    row = await rule_commands.update_rule(
        db_of(request), _writer(principal), rule_id, spec, expected_version=body.expected_version
    )
    return RulePublic.of(row)


@router.delete("/rules/{rule_id}", status_code=204)
async def delete_rule(rule_id: UUID, principal: CurrentPrincipal, request: Request) -> None:
    await rule_commands.delete_rule(db_of(request), _writer(principal), rule_id)


@router.post("/rules/{rule_id}/apply", response_model=AppliedPublic)
async def apply_rule(rule_id: UUID, principal: CurrentPrincipal, request: Request) -> AppliedPublic:
    """Apply a saved rule to the existing transactions it matches (each change is an edit in the
    transaction's history, undoable); a category chosen by hand is replaced when the rule sets one."""
    settings = settings_of(request)
    changed = await rule_commands.apply(db_of(request), settings, _writer(principal), rule_id)
    return AppliedPublic(changed=changed)
