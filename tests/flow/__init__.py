"""Tests of the flows: account (grants, relinking), endpoint and options flows."""
