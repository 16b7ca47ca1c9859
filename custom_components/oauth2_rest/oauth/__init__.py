"""Talking to OAuth 2.0 authorization servers: profiles, discovery, grants."""
