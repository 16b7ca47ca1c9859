"""Crash suite: real Home Assistant killed inside the token rotation window."""
