"""Extractors (spreadsheets, CSV, SQL databases), the institution configuration and the raw-input archive."""
