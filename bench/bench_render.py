"""Render benchmark: the Excel-safe, deterministic writers against plain pandas writers, same run.

Prints, for one planilla month of ``BENCH_ROWS`` rows (default 100,000):
  * seconds for our direct XLSX writer against the openpyxl write_only writer it replaced (kept here,
    and only here, as the baseline), with the speed-up;
  * seconds per format for ``publishers.formats`` (typed, neutralised, chunked) and for the naive
    pandas writer of the same frame (``to_csv``, ``to_excel`` with openpyxl, ``to_json``,
    ``to_parquet``), with the ratio ours / pandas;
  * the whole ``render_release`` (month + history + dictionary + report, CSV/XLSX/JSON), also with the
    openpyxl baseline patched in for XLSX; and the
    local catalog sync: first publish, then re-publish unchanged (zero writes expected);
  * month 13 rendered onto a 12-month history (``BENCH_ROWS`` / 5 rows a month): the history written in
    full against grown by the month (``publishers.history_memo``), CSV + JSON alone and with XLSX
    (never appended), median of 3 each.

    python -m bench.bench_render            # BENCH_ROWS=5000 python -m bench.bench_render to run small
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from unittest.mock import patch

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from release_samples import planilla_release  # noqa: E402

from bench.machine import print_load  # noqa: E402
from transparencia.domain import Period  # noqa: E402
from transparencia.output.formulas import neutralise  # noqa: E402
from transparencia.publishers import changes, formats, render  # noqa: E402
from transparencia.publishers.local import LocalCatalog  # noqa: E402
from transparencia.publishers.render import render_release  # noqa: E402
from transparencia.publishers.render_memo import frame_digest  # noqa: E402
from transparencia.schemas.table import load_schema  # noqa: E402


def month_frame(rows: int, period: str = "2025-01") -> pd.DataFrame:
    """A realistic planilla month: accents, cédulas, a few formula-looking texts, amounts and dates."""
    rng = np.random.default_rng(7)
    units = ["Dirección de Recursos Humanos", "Dirección de Finanzas", "Departamento de Informática", "Sección de Compras"]
    positions = ["Analista de Sistemas", "Asistente Administrativo", "Director(a)", "-Conductor", "Secretaria"]
    frame = pd.DataFrame({
        "periodo": pd.Series([period] * rows, dtype="str"),
        "unidad_administrativa": pd.Series(rng.choice(units, rows), dtype="str"),
        "nombre": pd.Series(rng.choice(["María", "José", "Ana", "Luis", "Yaritza"], rows), dtype="str"),
        "apellido": pd.Series(rng.choice(["Rodríguez", "Pérez", "González", "Núñez"], rows), dtype="str"),
        "cedula": pd.Series([f"8-{i % 9000 + 1}-{i % 99999 + 1}" for i in range(rows)], dtype="str"),
        "cargo": pd.Series(rng.choice(positions, rows), dtype="str"),
        "condicion": pd.Series(rng.choice(["PERMANENTE", "EVENTUAL", "TRANSITORIO"], rows), dtype="str"),
        "salario_mensual": rng.integers(60000, 500000, rows) / 100.0,
        "gasto_representacion": rng.choice([0.0, 250.0, 500.0], rows),
        "fecha_inicio": pd.to_datetime("2010-01-01") + pd.to_timedelta(rng.integers(0, 5000, rows), unit="D"),
    })
    frame.index = pd.RangeIndex(2, 2 + rows)
    return frame


def openpyxl_write_only_xlsx(frame: pd.DataFrame, fields, path: Path, *, sheet_title: str,
                             document_date: dt.datetime) -> None:
    """The previous product writer, as it was (openpyxl write_only, row by row, then re-zipped with fixed dates).

    Kept here, not in the product, as the baseline the direct writer is measured against.
    """
    workbook = Workbook(write_only=True)
    workbook.properties.created = document_date
    workbook.properties.creator = "transparencia"
    sheet = workbook.create_sheet(title=sheet_title)
    for index, f in enumerate(fields, 1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, min(40, len(f.title) + 4))
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = [WriteOnlyCell(sheet, value=neutralise(f.title)) for f in fields]
    for cell in header:
        cell.font = bold
    sheet.append(header)
    for start in range(0, len(frame), formats.CHUNK_ROWS):
        chunk = frame.iloc[start:start + formats.CHUNK_ROWS]
        for row in zip(*[chunk[f.name].tolist() for f in fields]):
            sheet.append([_openpyxl_value(value, field) for value, field in zip(row, fields)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, source.read(entry.filename))


def _openpyxl_value(value: object, field) -> object:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if field.type == "number":
        return None if value != value else float(value)
    if field.type == "integer":
        return int(value)
    if field.type == "date":
        return pd.Timestamp(value).date()
    if field.type == "boolean":
        return bool(value)
    if isinstance(value, float) and value != value:
        return None
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    print_load()
    rows = int(os.environ.get("BENCH_ROWS", "100000"))
    frame = month_frame(rows)
    fields = load_schema("planilla").fields
    print(f"Filas: {rows:,}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        ours = {
            "CSV": lambda: formats.write_csv(frame, fields, out / "a.csv"),
            "XLSX": lambda: formats.write_xlsx(frame, fields, out / "a.xlsx", sheet_title="Planilla",
                                               document_date=dt.datetime(2025, 1, 1)),
            "JSON": lambda: formats.write_json(frame, fields, out / "a.json"),
            "Parquet": lambda: formats.write_parquet(frame, fields, out / "a.parquet"),
        }
        naive = {
            "CSV": lambda: frame.to_csv(out / "b.csv", index=False),
            "XLSX": lambda: frame.to_excel(out / "b.xlsx", index=False, engine="openpyxl"),
            "JSON": lambda: frame.to_json(out / "b.json", orient="records", force_ascii=False, date_format="iso"),
            "Parquet": lambda: frame.to_parquet(out / "b.parquet", index=False),
        }
        # Warm-up on a few rows, so neither writer is charged for first-call imports and regex compilation.
        formats.write_xlsx(frame.head(100), fields, out / "w.xlsx", sheet_title="w", document_date=dt.datetime(2025, 1, 1))
        openpyxl_write_only_xlsx(frame.head(100), fields, out / "w.xlsx", sheet_title="w",
                                 document_date=dt.datetime(2025, 1, 1))
        direct = timed(lambda: formats.write_xlsx(frame, fields, out / "d.xlsx", sheet_title="Planilla",
                                                  document_date=dt.datetime(2025, 1, 1)))
        before = timed(lambda: openpyxl_write_only_xlsx(frame, fields, out / "o.xlsx", sheet_title="Planilla",
                                                        document_date=dt.datetime(2025, 1, 1)))
        print(f"XLSX directo: {direct:.2f} s ({(out / 'd.xlsx').stat().st_size / 1e6:.1f} MB); "
              f"openpyxl write_only (anterior): {before:.2f} s ({(out / 'o.xlsx').stat().st_size / 1e6:.1f} MB); "
              f"{before / direct:.1f}× más rápido")
        print(f"{'formato':<8} {'transparencia (s)':>18} {'pandas (s)':>11} {'razón':>7}")
        for name in ours:
            mine, base = timed(ours[name]), timed(naive[name])
            print(f"{name:<8} {mine:>18.2f} {base:>11.2f} {mine / base:>7.2f}")

        release = planilla_release(frame=frame)
        start = time.perf_counter()
        spec, resources = render_release(release, out / "r1")
        render_seconds = time.perf_counter() - start
        catalog = LocalCatalog(out / "published")
        first = time.perf_counter()
        created = catalog.sync(spec, resources)
        first = time.perf_counter() - first
        again = time.perf_counter()
        unchanged = catalog.sync(spec, resources)
        again = time.perf_counter() - again
        with patch.object(formats, "write_xlsx", openpyxl_write_only_xlsx):
            render_before = timed(lambda: render_release(release, out / "r0"))
        print(f"render_release (CSV, XLSX, JSON + histórico + diccionario + informe): {render_seconds:.2f} s; "
              f"con el XLSX de openpyxl (anterior): {render_before:.2f} s; {render_before / render_seconds:.1f}× más rápido")
        print(f"catálogo local, primera publicación: {first:.2f} s, {created.writes} escrituras")
        print(f"catálogo local, republicación sin cambios: {again:.2f} s, {unchanged.writes} escrituras "
              f"({again / first:.0%} de la primera)")
        second_month(frame, out)
        thirteenth_month(rows // 5, out)


def second_month(january: pd.DataFrame, out: Path) -> None:
    """A second month against the first: the change summary's share of the whole render."""
    february = january.assign(periodo="2025-02")
    february.loc[february.index[::50], "salario_mensual"] += 100.0  # a raise for 2 % of the staff
    february = february.iloc[len(february) // 100:]  # 1 % bajas
    history = pd.concat([january, february], ignore_index=True)
    release = planilla_release("2025-02", history=history, frame=february)
    rules = release.schema.treatments(release.privacy)
    summary = timed(lambda: changes.summarise(release.schema, history, Period(2025, 2), rules, "Planilla"))
    whole = timed(lambda: render_release(release, out / "r2"))
    print(f"segundo mes: render_release {whole:.2f} s, de ellos resumen de cambios {summary:.2f} s "
          f"({summary / whole:.0%})")


def thirteenth_month(rows: int, out: Path) -> None:
    """Month 13 onto 12 months of ``rows`` rows: the history rewritten against grown by the month, for
    the history files alone and for the whole render."""
    periods = [*(Period(2024, m) for m in range(1, 13)), Period(2025, 1)]
    months = {p: month_frame(rows, str(p)) for p in periods}
    print_load()
    print(f"mes 13 sobre un histórico de 12 meses ({rows:,} filas por mes), mediana de 3:")
    for wanted in (("csv", "json"), ("csv", "xlsx", "json")):
        built = out / f"twelve-{len(wanted)}"
        render_release(_month_release(months, periods[:12]), built, wanted)  # the 12-month history, in full
        full: list[tuple[float, float]] = []
        grown: list[tuple[float, float]] = []
        for attempt in range(3):
            full.append(_history_and_whole(_month_release(months, periods, keys=False),
                                           out / f"full-{len(wanted)}-{attempt}", wanted))
            folder = out / f"grown-{len(wanted)}-{attempt}"
            shutil.copytree(built, folder)
            grown.append(_history_and_whole(_month_release(months, periods), folder, wanted))
        for name in (f"planilla-historico.{fmt}" for fmt in wanted):
            assert (folder / name).read_bytes() == (out / f"full-{len(wanted)}-2" / name).read_bytes(), name
        label = "+".join(f.upper() for f in wanted)
        for what, index in (("archivos del histórico", 0), ("render_release entero", 1)):
            whole, appended = (statistics.median(t[index] for t in runs) for runs in (full, grown))
            print(f"  {label}, {what}: escrito entero {whole:.2f} s, crecido con el mes {appended:.2f} s "
                  f"({appended / whole:.0%}; {whole / appended:.1f}× más rápido)")


def _history_and_whole(release, folder: Path, wanted) -> tuple[float, float]:
    """Seconds rendering the history files, and the whole render, of ``release`` in ``folder``."""
    spent = []
    history = render._render_history

    def timed_history(*args, **kwargs):
        started = time.perf_counter()
        try:
            return history(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - started)

    with patch.object(render, "_render_history", timed_history):
        whole = timed(lambda: render_release(release, folder, wanted))
    return sum(spent), whole


def _month_release(months: dict[Period, pd.DataFrame], periods: list[Period], keys: bool = True):
    """The release of the last of ``periods`` with those months as its history; ``keys``: with each month's
    content key, as the month store gives it (what lets the history grow)."""
    history = pd.concat([months[p] for p in periods], ignore_index=True)
    release = planilla_release(str(periods[-1]), history=history, frame=months[periods[-1]])
    return dataclasses.replace(release, month_keys={p: frame_digest(months[p]).hex() for p in periods} if keys else None)


if __name__ == "__main__":
    main()
