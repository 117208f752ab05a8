"""Validation benchmark: a generated planilla of BENCH_ROWS rows (default 100,000) validated with
the suite generated from its schema and the row rules, beside the same checks in plain pandas.

About 1% of the rows carry a problem (bad cédula, negative salary, unknown condición, a start date
after the period, a duplicated key), so findings are produced and capped as in a real bad month.
The GX import is timed on its own and excluded. Targets: <= 3x the plain-pandas baseline at 100k
rows, and (the fixed cost paid once per item and month) <= 20 ms per call on a 40-row frame.

    python -m bench.bench_validation            # BENCH_ROWS=10000 python -m bench.bench_validation
"""

from __future__ import annotations

import os
import statistics
import time

import numpy as np
import pandas as pd

from bench.machine import print_load
from transparencia.domain import YEARMONTH_PATTERN, cedula
from transparencia.schemas import load_catalog
from transparencia.sources.extraction import Extraction, SourceRef
from transparencia.validation import validate
from transparencia.validation.expectations import suite_for

PERIOD = "2025-01"


def planilla_frame(rows: int, seed: int = 7) -> pd.DataFrame:
    """A typed planilla frame as an extractor returns it, indexed from spreadsheet row 5."""
    rng = np.random.default_rng(seed)
    schema = load_catalog().get("planilla").table_schema()
    conditions = np.array(schema.field("condicion").enum)
    number = np.arange(rows)
    frame = pd.DataFrame({
        "periodo": np.full(rows, PERIOD),
        "unidad_administrativa": np.array(["Dirección de Finanzas", "Recursos Humanos", "Informática"])[number % 3],
        "nombre": np.array(["María", "José", "Ana", "Luis"])[number % 4],
        "apellido": np.array(["Rodríguez", "Pérez", "González"])[number % 3],
        "cedula": [f"{1 + i % 13}-{i % 9000}-{i}" for i in number],
        "cargo": np.array(["Analista", "Asistente", "Director", "Conductor"])[number % 4],
        "condicion": conditions[rng.integers(0, len(conditions), rows)],
        "salario_mensual": rng.uniform(600, 6000, rows).round(2),
        "gasto_representacion": np.where(number % 50 == 0, 1500.0, 0.0),
        "fecha_inicio": pd.Timestamp("2010-01-01") + pd.to_timedelta(rng.integers(0, 5400, rows), unit="D"),
    }, index=pd.RangeIndex(5, 5 + rows, name="fila"))
    bad = number % 100 == 0
    frame.loc[frame.index[bad & (number % 500 == 0)], "cedula"] = "08-0123-04567-1"
    frame.loc[frame.index[bad & (number % 500 == 100)], "salario_mensual"] = -10.0
    frame.loc[frame.index[bad & (number % 500 == 200)], "condicion"] = "permanente?"
    frame.loc[frame.index[bad & (number % 500 == 300)], "fecha_inicio"] = pd.Timestamp("2025-03-01")
    frame.loc[frame.index[bad & (number % 500 == 400)], "cedula"] = frame["cedula"].iloc[0]
    for name in ("periodo", "unidad_administrativa", "nombre", "apellido", "cedula", "cargo", "condicion"):
        frame[name] = frame[name].astype("str")
    return frame


def pandas_baseline(frame: pd.DataFrame, schema) -> int:
    """The same checks, hand-written in plain pandas: the count of failing cells."""
    failing = 0
    for f in schema.fields:
        column = frame[f.name]
        if f.required:
            failing += int(column.isna().sum())
        present = column.dropna()
        if f.type == "yearmonth":
            failing += int((~present.str.match(YEARMONTH_PATTERN)).sum())
        if f.enum:
            failing += int((~present.isin(f.enum)).sum())
        if f.format == "cedula":
            failing += int((~present.str.match(cedula.CANONICAL_PATTERN)).sum())
        if f.minimum is not None:
            failing += int((present < f.minimum).sum())
        if f.exclusive_minimum is not None:
            failing += int((present <= f.exclusive_minimum).sum())
    failing += int(frame.duplicated(list(schema.primary_key), keep=False).sum())
    period_end = pd.Timestamp(f"{PERIOD}-01") + pd.offsets.MonthEnd(0)
    failing += int((frame["fecha_inicio"] > period_end).sum())
    failing += int((frame["periodo"].notna() & (frame["periodo"] != PERIOD)).sum())
    return failing


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - start, result


SMALL_ROWS = 40  # about a small institution's item in a month (the demo's planilla)


def small_frame(item, schema, calls: int = 15) -> tuple[float, float]:
    """Median seconds per call on a 40-row frame: ``validate()`` (suite cached) and the baseline."""
    frame = planilla_frame(SMALL_ROWS)
    extraction = Extraction(item.code, frame, SourceRef("file", "planilla-bench.xlsx", "Planilla"))
    validate(extraction, item, PERIOD)
    ours = statistics.median(timed(validate, extraction, item, PERIOD)[0] for _ in range(calls))
    baseline = statistics.median(timed(pandas_baseline, frame, schema)[0] for _ in range(calls))
    return ours, baseline


def main() -> None:
    print_load()
    rows = int(os.environ.get("BENCH_ROWS", "100000"))
    item = load_catalog().get("planilla")
    schema = item.table_schema()
    frame = planilla_frame(rows)
    extraction = Extraction(item.code, frame, SourceRef("file", "planilla-bench.xlsx", "Planilla"))

    gx_import, _ = timed(suite_for, schema)
    first, report = timed(validate, extraction, item, PERIOD)
    ours, report = timed(validate, extraction, item, PERIOD)
    baseline, baseline_failing = timed(pandas_baseline, frame, schema)
    small, small_baseline = small_frame(item, schema)

    print(f"rows:                           {rows:,}")
    print(f"GX import and suite (excluded): {gx_import:.2f} s")
    print(f"validate(), first call:         {first:.2f} s")
    print(f"validate(), cached suite:       {ours:.2f} s  -> {rows / ours:,.0f} rows/s  (target <= 2 s per 100k rows)")
    print(f"plain-pandas baseline:          {baseline:.2f} s  -> {rows / baseline:,.0f} rows/s")
    print(f"ratio ours / baseline:          {ours / baseline:.1f}x  (target <= 3x)")
    print(f"{SMALL_ROWS}-row frame, validate():       {small * 1000:.1f} ms per call (median)  (target <= 20 ms)")
    print(f"{SMALL_ROWS}-row frame, plain pandas:     {small_baseline * 1000:.1f} ms per call  "
          f"-> ratio {small / small_baseline:.1f}x")
    print(f"findings: ours {len(report.findings):,} ({len(report.errors):,} errors), "
          f"baseline {baseline_failing:,} failing cells (equal unless a check passed its 1,000 cap)")


if __name__ == "__main__":
    main()
