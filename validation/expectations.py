"""Great Expectations suites generated from the Table Schemas, never written by hand per item.

Each schema field constraint becomes one expectation, tagged (in its ``meta``) with the finding
type it produces; the suite, and the metric graphs GX would build from it on every call, are built
once per schema and process and reused (``SuitePlan``). Great Expectations costs seconds to import,
so it is imported on first use, with analytics off and no progress bars; there is no data context
beyond the ephemeral one GX's suites need (the suite runs on GX's pandas execution engine), so validating never reads or writes a project
folder nor touches the network.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import os
import sys
import threading
from collections.abc import Callable, Iterable
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


# GX's execution engine and the plans below are not safe to share between threads (two frames
# loaded at once would mix), so callers take turns here.
_GX_LOCK = threading.RLock()

# Every frame is loaded as this one batch: the metric graph names its batch, so one id lets a graph
# built once serve every frame.
BATCH_ID = "transparencia-extraccion"

# The fast path asks each expectation only whether it passed; row detail is asked of the failed ones.
FAST, DETAIL = "BOOLEAN_ONLY", "COMPLETE"


# Modules GX imports on its own import (``from scipy import stats`` in the KL-divergence expectation,
# which every ``great_expectations`` import loads) but that none of our expectations runs: about a
# third of GX's import time. altair, imported there too, cannot be deferred this way: ``import
# altair`` reads the module's ``__spec__``, which loads a lazy module at once.
GX_UNUSED_IMPORTS = ("scipy.stats",)


def _defer_import(name: str) -> None:
    """Register ``name`` as a lazy module (the standard library's ``importlib.util.LazyLoader``):
    importing it costs nothing, and it is executed, whole, on the first access to one of its
    attributes. A module already imported, or not installed, is left as it is."""
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        return
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)


@cache
def _gx_runtime() -> tuple[Any, Any, Any]:
    """Import GX (analytics off), open the ephemeral context its suites belong to, and make the
    process's one pandas execution engine, on which the suites are validated (``SuitePlan``) as a
    context's batch would on every call. The engine keeps no metric cache: each frame is new."""
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    for unused in GX_UNUSED_IMPORTS:
        _defer_import(unused)
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.execution_engine import PandasExecutionEngine

    gx.get_context(mode="ephemeral")
    return gx, gxe, PandasExecutionEngine(caching=False)


@dataclass(frozen=True)
class Verdict:
    """One expectation's outcome: whether it passed and GX's result (row detail in DETAIL only)."""

    success: bool
    result: dict[str, Any]


@dataclass(frozen=True)
class _Step:
    """One expectation of a plan: the GX expectation with the batch's id, its validation
    dependencies and its metric graph (GX MetricEdge)."""

    expectation: Any
    dependencies: Any
    edges: list[Any]


@dataclass
class SuitePlan:
    """A suite's expectations, their validation dependencies and GX metric graphs, for one result
    format, each built on its first use and kept for the process.

    GX's ``Batch.validate`` builds, on every call, each expectation's validation dependencies and
    the metric graph behind them (and ``metrics_validate`` builds the dependencies again), though
    they depend only on the configurations and the batch's id: for a 40-row frame that is most of
    its cost. The plan keeps them; a call only resolves the metrics on the frame and lets each
    expectation judge them (``Expectation._validate``), as ``metrics_validate`` does with them. The
    detailed plan is only asked about expectations that failed, so most of its steps are never built."""

    configurations: list[Any]  # the suite's expectation configurations, in check order
    runtime: dict[str, Any]
    steps: dict[int, _Step] = field(default_factory=dict)

    @classmethod
    def of(cls, suite: Any, result_format: str) -> SuitePlan:
        return cls(list(suite.expectation_configurations), {"result_format": result_format})

    def step(self, number: int) -> _Step:
        """Expectation ``number``'s step, built on first use."""
        built = self.steps.get(number)
        if built is None:
            built = self.steps[number] = self._build(number)
        return built

    def _build(self, number: int) -> _Step:
        from great_expectations.validator.metrics_calculator import MetricsCalculator

        _, _, engine = _gx_runtime()
        evaluated = copy.deepcopy(self.configurations[number])
        evaluated.kwargs["batch_id"] = BATCH_ID
        expectation = evaluated.to_domain_obj()
        dependencies = expectation.get_validation_dependencies(execution_engine=engine,
                                                               runtime_configuration=self.runtime)
        calculator = MetricsCalculator(execution_engine=engine, show_progress_bars=False)
        graph = calculator.build_metric_dependency_graph(
            metric_configurations=dependencies.get_metric_configurations(), runtime_configuration=self.runtime)
        return _Step(expectation, dependencies, list(graph.edges))

    def resolve(self, numbers: list[int], known: dict | None = None) -> dict:
        """The metrics of expectations ``numbers`` on the loaded frame, beside those ``known``
        already; a metric GX could not compute is raised as the first failed check's error."""
        from great_expectations.validator.validation_graph import ValidationGraph

        _, _, engine = _gx_runtime()
        graph = ValidationGraph(execution_engine=engine, edges=[e for n in numbers for e in self.step(n).edges])
        metrics = dict(known or {})
        aborted = graph._resolve(metrics=metrics, runtime_configuration=self.runtime, show_progress_bars=False)
        if aborted:
            failed = next(n for n in numbers if any(e.left.id in aborted or (e.right is not None and e.right.id in aborted)
                                                    for e in self.step(n).edges))
            info = next(iter(aborted.values()))["exception_info"]
            raise _GXFailure(failed, getattr(info, "exception_message", None) or str(info))
        return metrics

    def judge(self, numbers: list[int], metrics: dict) -> dict[int, Verdict]:
        """Each expectation's verdict on resolved ``metrics``."""
        _, _, engine = _gx_runtime()
        verdicts = {}
        for number in numbers:
            step = self.step(number)
            dependencies = step.dependencies
            provided = {name: metrics[metric.id] for name, metric in dependencies.metric_configurations.items()}
            runtime = {**self.runtime, "result_format": copy.deepcopy(dependencies.result_format)}
            try:
                raw = step.expectation._validate(metrics=provided, runtime_configuration=runtime,
                                                 execution_engine=engine)
            except Exception as error:  # GX's validator reports these inside the result; we raise them
                raise _GXFailure(number, str(error) or type(error).__name__) from error
            if not isinstance(raw, dict):  # an ExpectationValidationResult
                raw = {"success": raw.success, "result": raw.result}
            verdicts[number] = Verdict(bool(raw["success"]), raw.get("result") or {})
        return verdicts


class _GXFailure(Exception):
    """A check GX could not evaluate (a metric that crashed): which one, and GX's message."""

    def __init__(self, number: int, message: str) -> None:
        super().__init__(message)
        self.number, self.message = number, message


@dataclass
class CompiledSuite:
    """A schema's checks, its GX suite and the suite's two plans (fast and detailed)."""

    schema: TableSchema
    checks: list[Check]
    suite: Any
    fast: SuitePlan
    detail: SuitePlan


_suites: dict[str, CompiledSuite] = {}


def suite_for(schema: TableSchema) -> tuple[list[Check], Any]:
    """The schema's checks and GX suite, built on first use and cached per schema."""
    compiled = _compiled(schema)
    return compiled.checks, compiled.suite


def _compiled(schema: TableSchema) -> CompiledSuite:
    """The schema's suite and plans, built on first use and cached per schema (per process)."""
    with _GX_LOCK:
        cached = _suites.get(schema.name)
        if cached is not None and cached.schema is schema:
            return cached
        gx, gxe, _ = _gx_runtime()
        checks = schema_checks(schema)
        suite = gx.ExpectationSuite(name=f"transparencia-{schema.name}")
        for number, check in enumerate(checks):
            expectation = check.build(gxe)
            expectation.meta = {"check": number, "rule": check.rule}
            suite.add_expectation(expectation)
        compiled = CompiledSuite(schema, checks, suite, SuitePlan.of(suite, FAST), SuitePlan.of(suite, DETAIL))
        _suites[schema.name] = compiled
        return compiled


def prepare(schemas: Iterable[TableSchema]) -> None:
    """Import GX and build these schemas' suites and fast plans in a background thread, starting now:
    called while the process would only wait (the CLI, for Prefect's server), so that the first
    validations find them built. What fails here fails again, and is reported, where it is validated."""
    schemas = list(schemas)
    if not schemas:
        return

    def build() -> None:
        with contextlib.suppress(Exception):
            for schema in schemas:
                compiled = _compiled(schema)
                with _GX_LOCK:
                    for number in range(len(compiled.checks)):
                        compiled.fast.step(number)

    threading.Thread(target=build, name="preparar-validacion", daemon=True).start()


def run_suite(frame: pd.DataFrame, schema: TableSchema) -> list[Hits]:
    """Validate the frame with the schema's generated suite; one ``Hits`` per failed expectation.

    Every expectation is first asked only whether it passed (GX's cheapest result format); the
    failing rows are computed only for those that did not, reusing the metrics already resolved."""
    # A named index makes GX report each failing row as a dict of values: keep the index unnamed.
    frame = frame.rename_axis(None)
    compiled = _compiled(schema)
    checks = compiled.checks
    everything = list(range(len(checks)))
    with _GX_LOCK:
        _, _, engine = _gx_runtime()
        engine.load_batch_data(BATCH_ID, frame)
        try:
            known = compiled.fast.resolve(everything)
            verdicts = compiled.fast.judge(everything, known)
            failed = [n for n in everything if not verdicts[n].success]
            detail = compiled.detail.judge(failed, compiled.detail.resolve(failed, known)) if failed else {}
        except _GXFailure as failure:
            check = checks[failure.number]
            raise RuntimeError(f"Great Expectations falló en la verificación '{check.rule}' "
                               f"de '{check.column}': {failure.message}") from None
    return [_hits(checks[n], detail[n].result, frame) for n in failed]


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
