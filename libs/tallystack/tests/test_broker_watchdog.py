"""The stack's broker watchdog: a relay's report of a wedged partition gets the broker restarted."""

from pathlib import Path

from aiokafka import TopicPartition

from tallykit.kafka import report_wedged
from tallykit.settings import ServiceSettings
from tallystack.polling import eventually
from tallystack.stack import Ports, Stack


def test_a_reported_wedge_restarts_the_broker(tmp_path: Path) -> None:
    stack = Stack(tmp_path, Ports.free())
    stack.logs.mkdir(parents=True)
    stack.start_broker()
    try:
        assert stack.broker is not None
        first = stack.broker.pid
        assert stack.env("ledger")["TALLY_LEDGER_KAFKA_WEDGE_REPORT_FILE"] == str(stack.broker_wedged)
        report_wedged(ServiceSettings(kafka_wedge_report_file=stack.broker_wedged),
                      TopicPartition("ledger.events", 3))
        eventually(lambda: stack.broker_restarts, "the watchdog to restart the broker", 30)
        assert stack.broker_restarts == ["ledger.events/3 wedged"]
        assert stack.broker is not None
        assert stack.broker.pid != first
        assert stack.broker.poll() is None  # running
        assert not stack.broker_wedged.exists()
    finally:
        stack.stop_broker()
