"""HA-agnostic API client: authenticated requests with an OAuth 2.0 access token.

Nothing in this package imports ``homeassistant``.
"""
