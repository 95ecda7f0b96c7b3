"""Who consumes what, as the event registry declares it, is what the services really do."""

import importlib

import pytest

from tallykit.contracts import registry

SERVICES = ("auth", "ledger", "budget", "analytics", "notifier")


@pytest.mark.parametrize("service", SERVICES)
def test_consumers_handle_exactly_the_events_declared_for_them(service: str) -> None:
    app = importlib.import_module(f"tally_{service}.main").create_app(run_background=False)
    handled = {event_type for consumer in app.state.consumers for event_type in consumer.handlers}
    declared = {spec.type_name for spec in registry.specs() if service in spec.consumers}
    assert handled == declared
    for consumer in app.state.consumers:
        producers = {t.split(".", 1)[0] for t in consumer.handlers}
        assert {f"{p}.events" for p in producers} == set(consumer.topics)
