"""Fixtures for the real local CKAN server (scripts/ckan-local/)."""
