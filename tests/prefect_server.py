"""Fixtures for a temporary Prefect server."""
