"""Tests of the offline demo OAuth2/OpenID provider (demo/)."""
