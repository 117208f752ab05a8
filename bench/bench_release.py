"""Monthly-release benchmark: a large institution's month on the local target.

Prints the end-to-end time of the flow, Prefect's share (start-up plus orchestration: the flow's
wall time minus the time spent inside the stage functions), and the bare floor measured in the
same run on the same inputs: python-calamine reading each workbook/CSV plus a pyarrow CSV write.

    python -m bench.bench_release            # ~150k rows over the 24 items (default)
    BENCH_ROWS=2000 python -m bench.bench_release   # rows per tabular item, to run small

Targets: pipeline work ≤ 2× the floor; Prefect overhead ≤ 15 s per run.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROWS_PER_ITEM = int(os.environ.get("BENCH_ROWS", "10000"))  # 15 tabular items → ~150k rows


def floor(inputs: list[Path], out: Path) -> float:
    """The bare minimum: read every input with python-calamine (or csv) and write it with pyarrow."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    from python_calamine import CalamineWorkbook

    started = time.perf_counter()
    for i, path in enumerate(inputs):
        if path.suffix == ".csv":
            table = pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter=";"),
                                   read_options=pacsv.ReadOptions(skip_rows=4))
            pacsv.write_csv(table, out / f"{i}.csv")
            continue
        book = CalamineWorkbook.from_path(str(path))
        for sheet in book.sheet_names:
            rows = book.get_sheet_by_name(sheet).to_python()
            header, body = rows[4], rows[5:]
            columns = {str(h): [str(r[j]) for r in body] for j, h in enumerate(header)}
            pacsv.write_csv(pa.table(columns), out / f"{i}-{sheet}.csv")
    return time.perf_counter() - started


def bare_pipeline(config, period: str) -> float:
    """The same stage functions, called in sequence without Prefect, into a scratch catalog."""
    import dataclasses

    from transparencia.flows import release
    from transparencia.sources.registry import planned_extractions
    from transparencia.validation.expectations import load_gx

    load_gx()  # the import cost is paid by both runs; keep it out of the comparison
    scratch = dataclasses.replace(config, data_dir=config.data_dir / "bare",
                                  publish=dataclasses.replace(config.publish, local_dir=config.data_dir / "bare" / "pub"))
    started = time.perf_counter()
    for source, code in planned_extractions(scratch, period):
        extraction = release.extract_task.fn(scratch, source, code, period, "bench-bare")
        report = release.validate_task.fn(extraction, scratch.catalog.get(code), period)
        release.publish_task.fn(scratch, code, period, extraction, report, source.directorate_name, "local", False)
    return time.perf_counter() - started


def main() -> None:
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    for handler in ("CONSOLE", "CONSOLE_FLOW_RUNS", "CONSOLE_TASK_RUNS"):
        os.environ.setdefault(f"PREFECT_LOGGING_HANDLERS_{handler}_LEVEL", "CRITICAL")
    from transparencia.flows import release
    from transparencia.sources.config import load_config
    from transparencia.sources.demo import write_month

    work = Path(tempfile.mkdtemp(prefix="bench-release-"))
    shutil.copy(ROOT / "data" / "institution.yaml", work / "institution.yaml")
    config = load_config(work / "institution.yaml")
    period = "2025-01"
    print(f"Generando entradas: {ROWS_PER_ITEM} filas por punto tabular…", flush=True)
    inputs = [p for p in write_month(config, period, rows=ROWS_PER_ITEM, missing=(), errors=False)
              if p.suffix != ".sqlite"]
    floor_out = work / "floor"
    floor_out.mkdir()
    floor_seconds = floor(inputs, floor_out)

    bare_seconds = bare_pipeline(config, period)
    started = time.perf_counter()
    result = release.run_release(period, work / "institution.yaml", target="local")
    total = time.perf_counter() - started
    rows = sum(i.rows or 0 for i in result.items)
    print(f"filas: {rows}  puntos: {len(result.items)}  estado: {result.report['summary']['headline']}")
    print(f"extremo a extremo (flujo Prefect): {total:.1f} s")
    print(f"trabajo del pipeline sin Prefect (secuencial): {bare_seconds:.1f} s")
    print(f"parte de Prefect (arranque + orquestación): {max(total - bare_seconds, 0):.1f} s  (objetivo ≤ 15 s)")
    print(f"piso (calamine + pyarrow CSV): {floor_seconds:.1f} s")
    print(f"pipeline / piso: {bare_seconds / floor_seconds:.2f}×  (objetivo ≤ 2×)")
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
