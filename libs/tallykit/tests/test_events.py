from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from tallykit.contracts import registry
from tallykit.contracts.ledger import TransactionRecorded
from tallykit.events import Envelope, EventPayload, EventRegistry, InvalidEventPayload
from tallykit.money import Money, minor_unit_digits


def test_envelope_round_trips_through_json() -> None:
    payload = TransactionRecorded(
        account_id=uuid4(), kind="expense", amount_minor=1250, currency="EUR", booked_on="2026-11-01"
    )
    env = registry.envelope(payload, tenant_id=uuid4(), stream_id=uuid4(), stream_version=1, actor="system")
    again = Envelope.from_json(env.to_json())
    assert again == env
    assert registry.payload(again) == payload
    assert env.type == "ledger.TransactionRecorded"
    assert env.schema_version == 1


def test_registry_upcasts_old_versions_step_by_step() -> None:
    reg = EventRegistry()

    @reg.event("demo.Renamed", version=3)
    class Renamed(EventPayload):
        full_name: str
        reason: str

    @reg.upcaster("demo.Renamed", from_version=1)
    def v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
        return {"full_name": data["name"]}

    @reg.upcaster("demo.Renamed", from_version=2)
    def v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "reason": "unknown"}

    old = Envelope(
        id=uuid4(),
        type="demo.Renamed",
        schema_version=1,
        tenant_id=uuid4(),
        stream_id=uuid4(),
        stream_version=1,
        occurred_at="2026-01-01T00:00:00Z",
        recorded_at="2026-01-01T00:00:00Z",
        correlation_id=uuid4(),
        actor="system",
        data={"name": "Ada"},
    )
    assert reg.payload(old) == Renamed(full_name="Ada", reason="unknown")

    newer = old.model_copy(update={"schema_version": 4})
    with pytest.raises(InvalidEventPayload):
        reg.payload(newer)


def test_payload_that_breaks_its_schema_is_rejected() -> None:
    env = registry.envelope(
        TransactionRecorded(
            account_id=uuid4(), kind="income", amount_minor=1, currency="USD", booked_on="2026-01-01"
        ),
        tenant_id=uuid4(),
        stream_id=uuid4(),
        stream_version=1,
        actor="system",
    )
    broken = env.model_copy(update={"data": {**env.data, "amount_minor": 12.5}})
    with pytest.raises(InvalidEventPayload):
        registry.payload(broken)


def test_money_is_integer_minor_units_with_iso_currency() -> None:
    assert Money(amount_minor=-1999, currency="EUR").format() == "-19.99 EUR"
    assert Money(amount_minor=500, currency="JPY").format() == "500 JPY"
    assert minor_unit_digits("KWD") == 3
    with pytest.raises(ValidationError):
        Money(amount_minor=10.5, currency="EUR")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Money(amount_minor=10, currency="EURO")
    with pytest.raises(ValueError, match="cannot add"):
        Money(amount_minor=1, currency="EUR") + Money(amount_minor=1, currency="USD")


def test_first_envelopes_match_what_envelope_makes_one_at_a_time() -> None:
    payloads = [TransactionRecorded(account_id=uuid4(), kind="expense", amount_minor=n, currency="EUR",
                                    booked_on="2026-11-01") for n in (1, 2, 3)]
    tenant, streams, correlation = uuid4(), [uuid4(), uuid4(), uuid4()], uuid4()
    many = registry.first_envelopes(payloads, tenant_id=tenant, stream_ids=streams, actor="u1",
                                    correlation_id=correlation)
    for envelope, payload, stream in zip(many, payloads, streams, strict=True):
        one = registry.envelope(payload, tenant_id=tenant, stream_id=stream, stream_version=1, actor="u1",
                                correlation_id=correlation)
        same = {"id", "occurred_at", "recorded_at"}
        assert envelope.model_dump(exclude=same) == one.model_dump(exclude=same)
        assert registry.payload(Envelope.from_json(envelope.to_json())) == payload
    assert len({e.id for e in many}) == 3
    with pytest.raises(ValueError, match="one stream id per payload"):
        registry.first_envelopes(payloads, tenant_id=tenant, stream_ids=streams[:2], actor="u1",
                                 correlation_id=correlation)
    with pytest.raises(ValidationError):  # the envelope's own rules still hold
        registry.first_envelopes(payloads[:1], tenant_id=tenant, stream_ids=streams[:1], actor="",
                                 correlation_id=correlation)
