"""Validation of extracted items: Great Expectations suites generated from the schemas, plus row rules."""
