"""Monthly-release benchmark: a large institution's month on the local target.

The month is valid (no deliberate errors, no missing source): every item is extracted,
validated and published, so the figures measure a full publish. Each run starts from an empty
store and catalog. Printed, all measured in the same run on the same inputs:

  * pipeline work: the stage functions (extract, validate, publish) called in sequence, no Prefect;
  * the flow end to end (Prefect start-up included), whose items run concurrently on threads;
  * Prefect's share: the flow's wall time minus the same stage functions run on the same number
    of threads without Prefect (so concurrency is not credited to, nor charged against, Prefect);
  * the floor: python-calamine reading each workbook/CSV plus a pyarrow CSV write.

    python -m bench.bench_release            # ~150k rows over the 14 tabular items of the 24 (default)
    BENCH_ROWS=2000 python -m bench.bench_release   # rows per tabular item, to run small

  * the re-run: the same month again on the same store and catalog (inputs unchanged).

Targets: pipeline work ≤ 2× the floor; Prefect overhead ≤ 15 s per run; an unchanged re-run ≤ 10 % of the first.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.machine import print_load
from transparencia.domain import ItemKind, Period, Target
from transparencia.flows.environment import configure_prefect
from transparencia.sources.config import load_config
from transparencia.sources.demo import write_month
from transparencia.sources.registry import planned_extractions
from transparencia.validation.expectations import suite_for

ROOT = Path(__file__).resolve().parents[1]
ROWS_PER_ITEM = int(os.environ.get("BENCH_ROWS", "10715"))  # 14 tabular items → ~150k rows
PERIOD = Period(2025, 1)


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


def _scratch(config, name: str):
    """The configuration with its own empty store, build folder and local catalog."""
    import dataclasses

    base = config.data_dir / name
    return dataclasses.replace(config, data_dir=base,
                               publish=config.publish.model_copy(update={"local_dir": base / "pub"}))


def _item_chain(config, source, code: str) -> bool:
    """One item's stages as the flow runs them; True when the item was published."""
    from transparencia.flows import release  # imports Prefect: only once main() has configured it

    item = config.catalog.get(code)
    extraction = release.extract_task.fn(config, source, code, PERIOD, "bench-bare")
    report = release.validate_task.fn(config, extraction, item, PERIOD)
    return release.publish_task.fn(config, item, PERIOD, extraction, report, source.directorate_name,
                                   Target.LOCAL, False) is not None


def bare_pipeline(config, name: str, workers: int) -> tuple[float, int]:
    """The stage functions without Prefect, on ``workers`` threads; (seconds, items published)."""
    from concurrent.futures import ThreadPoolExecutor

    scratch = _scratch(config, name)
    pairs = planned_extractions(scratch)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=min(workers, len(pairs))) as pool:
        published = list(pool.map(lambda pair: _item_chain(scratch, *pair), pairs))
    return time.perf_counter() - started, sum(published)


def main() -> None:
    print_load()
    configure_prefect()
    # Prefect reads the settings configure_prefect() wrote when it is imported: only now.
    from prefect.settings import get_current_settings

    from transparencia.flows import release

    work = Path(tempfile.mkdtemp(prefix="bench-release-"))
    shutil.copy(ROOT / "data" / "institution.yaml", work / "institution.yaml")
    config = load_config(work / "institution.yaml")
    print(f"Generando entradas: {ROWS_PER_ITEM} filas por punto tabular…", flush=True)
    inputs = [p for p in write_month(config, PERIOD, rows=ROWS_PER_ITEM, missing=(), errors=False)
              if p.suffix != ".sqlite"]
    floor_out = work / "floor"
    floor_out.mkdir()
    floor_seconds = floor(inputs, floor_out)

    # Great Expectations' import is paid once by whichever run comes first; keep it out
    suite_for(config.catalog.get("planilla").table_schema())

    # The flow's default task runner: as many threads as it is given tasks, up to its limit.
    pairs = len(planned_extractions(config))
    threads = min(get_current_settings().tasks.runner.thread_pool_max_workers or pairs, pairs)
    sequential, published = bare_pipeline(config, "bare-seq", 1)
    rerun, _ = bare_pipeline(config, "bare-seq", 1)  # the same month again, inputs unchanged
    threaded, _ = bare_pipeline(config, "bare-threads", threads)
    started = time.perf_counter()
    result = release.run_release(PERIOD, work / "institution.yaml", target="local")
    total = time.perf_counter() - started
    rows = sum(i.rows or 0 for i in result.items)
    tabular = [i for i in result.items if i.kind == ItemKind.DATASET]
    not_published = [f"{i.code} {i.status}" for i in tabular if i.status not in ("publicado", "publicado_con_advertencias")]
    print(f"filas: {rows}  puntos: {len(result.items)} ({len(tabular)} tabulares, {published} publicados sin Prefect)"
          f"  estado: {result.report['summary']['headline']}")
    if not_published:
        print(f"AVISO: puntos tabulares no publicados por el flujo: {', '.join(not_published)}")
    print(f"trabajo del pipeline sin Prefect, secuencial (extraer + validar + publicar): {sequential:.1f} s")
    print(f"re-ejecución del mismo mes sin cambios, secuencial: {rerun:.1f} s ({rerun / sequential:.0%} de la primera; objetivo ≤ 10 %)")
    print(f"el mismo trabajo sin Prefect en {threads} hilos: {threaded:.1f} s")
    print(f"extremo a extremo (flujo Prefect en {threads} hilos, con arranque): {total:.1f} s")
    print(f"parte de Prefect (flujo − mismo trabajo en hilos sin Prefect): {total - threaded:.1f} s  (objetivo ≤ 15 s)")
    print(f"piso (calamine + pyarrow CSV): {floor_seconds:.1f} s")
    print(f"pipeline / piso: {sequential / floor_seconds:.2f}×  (objetivo ≤ 2×)")
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
