"""Property-based tests (hypothesis) of what untrusted servers and users send."""
