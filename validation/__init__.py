"""Validation of extracted items: Great Expectations suites generated from the schemas, plus row rules.

``validate(extraction, item, period=None) -> ValidationReport`` is the entry point. Great
Expectations is imported on the first validation, not when this package is imported.
"""

from transparencia.validation.findings import FINDING_TYPES, Finding, FindingType, ValidationReport
from transparencia.validation.validator import infer_period, validate

__all__ = ["FINDING_TYPES", "Finding", "FindingType", "ValidationReport", "infer_period", "validate"]
