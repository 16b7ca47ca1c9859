"""Offline OAuth 2.0 / OpenID Connect demo provider for trying OAuth2 REST.

Built on authlib's server-side grants with aiohttp as the web layer. Everything is kept in
memory; nothing here is meant for production use.
"""
