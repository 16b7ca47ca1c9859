"""Tests of the OAuth 2.0 pieces (oauth/*): device grant, discovery, identity, tokens."""
