"""Contract tests: every preset against its provider's documented answers."""
