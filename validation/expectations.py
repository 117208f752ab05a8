"""Great Expectations suites generated from the Table Schemas, never written by hand per item.

Each schema field constraint becomes one expectation, tagged (in its ``meta``) with the finding
type it produces; the suite is built once per schema and reused. Great Expectations costs about
6 s to import, so it is imported on first use, with analytics off and no progress bars; the
context is ephemeral (in memory), so validating never reads or writes a project folder nor
touches the network.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from transparencia.domain import YEARMONTH_PATTERN, Severity, cedula, ruc
from transparencia.schemas.table import Field, TableSchema
from transparencia.validation.hits import Cells, Hits


@dataclass(frozen=True)
class Check:
    """One generated expectation and the finding type its failures become."""

    rule: str
    severity: Severity
    columns: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict)
    build: Callable[[Any], Any] = field(default=lambda gxe: None, compare=False, repr=False)

    @property
    def column(self) -> str:
        return ", ".join(self.columns)


def anchored(pattern: str) -> str:
    """GX runs regexes as a search: anchor the whole pattern and keep its alternations inside."""
    body = pattern.removeprefix("^").removesuffix("$")
    return f"^(?:{body})$"


def _between(column: str, bounds: dict[str, Any]) -> Callable[[Any], Any]:
    """The GX range expectation of ``column`` (``min_value``/``strict_min`` or the max pair)."""
    return lambda gxe: gxe.ExpectColumnValuesToBeBetween(column=column, **bounds)


def _field_checks(f: Field) -> list[Check]:
    """The checks a field's Table Schema type, format and constraints imply."""
    col, base = f.name, {"title": f.title}
    checks = []
    if f.required:
        checks.append(Check("required", Severity.ERROR, (col,), base,
                            lambda gxe: gxe.ExpectColumnValuesToNotBeNull(column=col)))
    if f.type == "yearmonth":
        checks.append(Check("yearmonth", Severity.ERROR, (col,), base,
                            lambda gxe: gxe.ExpectColumnValuesToMatchRegex(column=col, regex=YEARMONTH_PATTERN)))
    if f.enum:
        allowed = list(f.enum)
        checks.append(Check("enum", Severity.ERROR, (col,), {**base, "allowed": ", ".join(allowed)},
                            lambda gxe: gxe.ExpectColumnValuesToBeInSet(column=col, value_set=allowed)))
    if f.pattern:
        regex = anchored(f.pattern)
        checks.append(Check("pattern", Severity.ERROR, (col,), {**base, "pattern": f.pattern},
                            lambda gxe: gxe.ExpectColumnValuesToMatchRegex(column=col, regex=regex)))
    if f.format == "cedula":
        checks.append(Check("cedula", Severity.ERROR, (col,), base,
                            lambda gxe: gxe.ExpectColumnValuesToMatchRegex(column=col, regex=cedula.CANONICAL_PATTERN)))
    if f.format == "ruc":
        checks.append(Check("ruc", Severity.WARNING, (col,), base,
                            lambda gxe: gxe.ExpectColumnValuesToMatchRegex(column=col, regex=ruc.PATTERN)))
    bounds = (("minimum", f.minimum, False, "min"), ("exclusive-minimum", f.exclusive_minimum, True, "min"),
              ("maximum", f.maximum, False, "max"))
    for rule, bound, strict, side in bounds:
        if bound is not None:
            checks.append(Check(rule, Severity.ERROR, (col,), {**base, "bound": bound},
                                _between(col, {f"{side}_value": bound, f"strict_{side}": strict})))
    if f.max_length is not None:
        longest = f.max_length
        checks.append(Check("max-length", Severity.ERROR, (col,), {**base, "bound": longest},
                            lambda gxe: gxe.ExpectColumnValueLengthsToBeBetween(column=col, max_value=longest)))
    return checks


def schema_checks(schema: TableSchema) -> list[Check]:
    """Every check generated from the schema: its fields' constraints and its primary key."""
    checks = [c for f in schema.fields for c in _field_checks(f)]
    key = list(schema.primary_key)
    if key:
        titles = ", ".join(schema.field(k).title for k in key)
        checks.append(Check("duplicate-key", Severity.ERROR, tuple(key), {"key": titles},
                            lambda gxe: gxe.ExpectCompoundColumnsToBeUnique(column_list=key)
                            if len(key) > 1 else gxe.ExpectColumnValuesToBeUnique(column=key[0])))
    return checks


# One ephemeral GX context and batch definition serve the whole process; GX does not make them safe
# to share between threads (two batches at once mix their dataframes), so callers take turns here.
_GX_LOCK = threading.RLock()


@cache
def _gx_runtime():
    """Import GX (analytics off) and open one ephemeral context with a dataframe batch definition."""
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    import great_expectations as gx
    import great_expectations.expectations as gxe

    context = gx.get_context(mode="ephemeral")
    # GX's validator reads this setting as a mapping ("globally" in progress_bars), though typed as its config class.
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}  # type: ignore[assignment]
    asset = context.data_sources.add_pandas("transparencia").add_dataframe_asset("extraccion")
    return gx, gxe, asset.add_batch_definition_whole_dataframe("completa")


_suites: dict[str, tuple[TableSchema, list[Check], Any]] = {}


def suite_for(schema: TableSchema) -> tuple[list[Check], Any]:
    """The schema's checks and GX suite, built on first use and cached per schema."""
    cached = _suites.get(schema.name)
    if cached is not None and cached[0] is schema:
        return cached[1], cached[2]
    gx, gxe, _ = _gx_runtime()
    checks = schema_checks(schema)
    suite = gx.ExpectationSuite(name=f"transparencia-{schema.name}")
    for number, check in enumerate(checks):
        expectation = check.build(gxe)
        expectation.meta = {"check": number, "rule": check.rule}
        suite.add_expectation(expectation)
    _suites[schema.name] = (schema, checks, suite)
    return checks, suite


def run_suite(frame: pd.DataFrame, schema: TableSchema) -> list[Hits]:
    """Validate the frame with the schema's generated suite; one ``Hits`` per failed expectation."""
    # A named index makes GX report each failing row as a dict of values: keep the index unnamed.
    frame = frame.rename_axis(None)
    with _GX_LOCK:
        checks, suite = suite_for(schema)
        _, _, batch_definition = _gx_runtime()
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        outcome = batch.validate(suite, result_format="COMPLETE")
    failed = []
    for result in outcome.results:
        number = result.expectation_config.meta["check"]
        check = checks[number]
        problem = _exception_message(result.exception_info)
        if problem:
            raise RuntimeError(f"Great Expectations falló en la verificación '{check.rule}' "
                               f"de '{check.column}': {problem}")
        if not result.success:
            failed.append((number, _hits(check, result.result, frame)))
    return [hits for _, hits in sorted(failed, key=lambda pair: pair[0])]


def _hits(check: Check, result: dict[str, Any], frame: pd.DataFrame) -> Hits:
    """The failing rows, with their values read back from the frame (GX truncates its value list)."""
    rows = np.asarray(result.get("unexpected_index_list") or [])
    positions = frame.index.get_indexer(pd.Index(rows))
    values: Cells
    if len(check.columns) == 1:
        values = frame[check.columns[0]].to_numpy()[positions]
    else:
        parts = [frame[c].to_numpy()[positions] for c in check.columns]
        values = list(zip(*parts, strict=True))  # one tuple per row: to_findings shows it and keeps its parts
    return Hits(check.rule, check.severity, check.column, rows, values, check.params)


def _exception_message(info: Any) -> str | None:
    """GX reports a crashed metric inside the result (flat, or keyed by metric) instead of raising."""
    if not isinstance(info, dict):
        return None
    if "raised_exception" in info:
        return (info.get("exception_message") or "error") if info["raised_exception"] else None
    for nested in info.values():
        message = _exception_message(nested)
        if message:
            return message
    return None
