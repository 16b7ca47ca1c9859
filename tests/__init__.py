"""Tests for the OAuth2 REST integration."""
