"""Findings: each is a typed error with an id, a Spanish message template and where it happened.

A report is data first (``to_dict``), text second. ``error`` findings block publication of the
item; ``warning`` findings do not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class FindingType:
    id: str
    title: str  # Spanish
    template: str  # Spanish, str.format with the finding's ``params`` plus column/value


@dataclass(frozen=True)
class Finding:
    rule: str  # FindingType.id
    severity: str  # "error" | "warning"
    message: str  # Spanish, rendered from the type's template
    column: str | None = None
    row: int | None = None  # source row number, as seen in the spreadsheet
    value: Any = None
    file: str | None = None
    sheet: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule, "severity": self.severity, "column": self.column, "row": self.row,
            "value": self.value, "message": self.message, "file": self.file, "sheet": self.sheet,
        }


@dataclass
class ValidationReport:
    """The outcome of validating one item's extraction."""

    SCHEMA_VERSION: ClassVar[int] = 1

    item: str  # catalog code
    item_name: str
    file: str
    sheet: str | None
    rows: int
    period: str | None
    findings: list[Finding] = field(default_factory=list)
    extraction: dict[str, Any] = field(default_factory=dict)  # Extraction.summary()

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "item_name": self.item_name,
            "file": self.file,
            "sheet": self.sheet,
            "period": self.period,
            "rows": self.rows,
            "valid": self.valid,
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
            "extraction": self.extraction,
        }
