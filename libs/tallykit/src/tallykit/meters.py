"""The metric objects themselves, apart from the HTTP side in `tallykit.metrics`, so that the
relay, the consumer and the services can count without importing the web app's machinery."""

from prometheus_client import Counter, Gauge, Histogram

REQUEST_DURATION = Histogram(
    "tally_http_request_duration_seconds",
    "Time from a request's arrival to its response headers, by route template.",
    ["service", "method", "route", "status"],
)
OUTBOX_BACKLOG = Gauge("tally_outbox_backlog", "Outbox rows not yet published to Kafka.", ["service"])
EVENTS_PUBLISHED = Counter("tally_events_published", "Outbox rows the relay published.", ["service"])
CONSUMER_EVENTS = Counter(
    "tally_consumer_events",
    "Records a consumer group took: handled, duplicate (already in the inbox), ignored, dead_lettered.",
    ["group", "outcome"],
)
CONSUMER_LAG = Gauge(
    "tally_consumer_lag",
    "Log end offset minus the group's committed offset.",
    ["group", "topic", "partition"],
)
NOTIFICATIONS_SENT = Counter("tally_notifications_sent", "Notifications delivered.", ["channel"])
