"""Tally gateway: the one public entry. Routes /api/<service>/... to the services, checks access tokens,
adds request ids and security headers, and serves the static web client."""
