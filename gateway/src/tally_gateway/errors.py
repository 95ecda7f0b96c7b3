"""Problems only the gateway raises (the kit's renderer turns them into problem+json)."""

from tallykit.errors import Problem


class ContentTooLarge(Problem):
    status, title, type_slug = 413, "Content too large", "content-too-large"


class BadGateway(Problem):
    status, title, type_slug = 502, "Bad gateway", "bad-gateway"


class GatewayTimeout(Problem):
    status, title, type_slug = 504, "Gateway timeout", "gateway-timeout"
