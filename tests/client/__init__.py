"""Tests of the HA-free HTTP client (client/*)."""
