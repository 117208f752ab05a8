"""National simulation: many institutions' months in one run on a local Dask cluster of worker processes.

Institutions are the sample institution under other names, each with a valid month whose size is
drawn from a realistic spread (most a few hundred rows per item, a few tens of thousands of rows in
all), about ``BENCH_TOTAL_ROWS`` rows over ``BENCH_INSTITUTIONS`` institutions. Every run starts
from fresh copies of the inputs (empty stores and catalogs). Printed, all from the same run:

  * time against rows: institutions taken in a fixed mixed order up to 25 %, 50 % and 100 % of
    the rows, on two worker processes;
  * the speed-up from one to two worker processes on the 25 % set (same institutions, same inputs);
  * the fixed cost per institution: the intercept of the institutions' own times (measured in
    the worker, subflow included) against their rows, a least-squares line over every run;
  * peak memory: the largest sum of resident memory of this process and all its children (the
    Dask workers and the Prefect server), sampled every 0.2 s.

    python -m bench.bench_national                       # 200 institutions, ~1M rows
    BENCH_INSTITUTIONS=20 BENCH_TOTAL_ROWS=40000 python -m bench.bench_national   # small

Targets (2 cores): total ≤ 5 min, speed-up ≥ 1.7× (issue 21), fixed cost ≤ 0.5 s per institution, peak < 4 GB.
"""

from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from transparencia.domain import Period
from transparencia.flows.environment import configure_prefect
from transparencia.sources.config import load_config
from transparencia.sources.demo import write_month

ROOT = Path(__file__).resolve().parents[1]
INSTITUTIONS = int(os.environ.get("BENCH_INSTITUTIONS", "200"))
TOTAL_ROWS = int(os.environ.get("BENCH_TOTAL_ROWS", "1000000"))
PERIOD = Period(2025, 1)
TABULAR_ITEMS = 14  # tabular items the sample institution feeds
SAMPLE = ROOT / "data" / "institution.yaml"


def month_sizes(count: int, total: int, seed: int = 13) -> list[int]:
    """Rows per tabular item for each institution: most a few hundred, one in 25 tens of thousands in all."""
    rng = random.Random(seed)
    raw = [rng.uniform(4000, 9000) if rng.random() < 0.04 else rng.lognormvariate(5.3, 0.6) for _ in range(count)]
    scale = total / (TABULAR_ITEMS * sum(raw))
    return [max(5, round(r * scale)) for r in raw]


def write_institutions(base: Path, sizes: list[int]) -> list[Path]:
    folders = []
    text = SAMPLE.read_text(encoding="utf-8")
    for number, rows in enumerate(sizes, 1):
        folder = base / f"i{number:03d}"
        folder.mkdir(parents=True)
        (folder / "institution.yaml").write_text(
            text.replace("acronym: SNM", f"acronym: I{number:03d}")
                .replace("organization: servicio-nacional-de-migracion", f"organization: inst-{number:03d}")
                .replace("name: Servicio Nacional de Migración", f"name: Institución {number:03d}"),
            encoding="utf-8")
        write_month(load_config(folder / "institution.yaml"), PERIOD, rows=rows, missing=(), errors=False)
        folders.append(folder)
    return folders


class PeakMemory:
    """The largest resident memory of this process plus all its descendants, sampled in a thread."""

    def __init__(self, every: float = 0.2):
        import psutil

        self.process, self.every, self.peak = psutil.Process(), every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        import psutil

        while not self._stop.is_set():
            total = 0
            for proc in [self.process, *self.process.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total)
            self._stop.wait(self.every)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def timed_run(folders: list[Path], scratch: Path, workers: int) -> tuple[float, list]:
    """Copy the institutions' inputs afresh and release them all; (wall seconds, InstitutionRuns)."""
    from transparencia.flows.national import run_national  # imports Prefect: only once main() has configured it

    if scratch.exists():
        shutil.rmtree(scratch)
    configs = []
    for folder in folders:
        shutil.copytree(folder, scratch / folder.name)
        configs.append(scratch / folder.name / "institution.yaml")
    started = time.perf_counter()
    result = run_national(PERIOD, configs, target="local", workers=workers)
    seconds = time.perf_counter() - started
    failed = [f"{r.institution}: {r.error or r.result.report['summary']['headline']}" for r in result.runs if r.exit_code]
    if failed:
        print(f"AVISO: {len(failed)} instituciones con problemas, p. ej. {failed[0]}")
    shutil.rmtree(scratch, ignore_errors=True)
    return seconds, result.runs


def fixed_cost(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least-squares intercept and slope of seconds against rows."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points) or 1.0
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / var
    return mean_y - slope * mean_x, slope


def prefix_up_to(folders: list[Path], rows: list[int], target: int) -> list[Path]:
    chosen, total = [], 0
    for folder, count in zip(folders, rows, strict=True):
        if total >= target:
            break
        chosen.append(folder)
        total += count
    return chosen


def main() -> None:
    configure_prefect()
    from transparencia.flows import server  # Prefect reads the settings just written

    work = Path(tempfile.mkdtemp(prefix="bench-national-"))
    sizes = month_sizes(INSTITUTIONS, TOTAL_ROWS)
    rows = [s * TABULAR_ITEMS for s in sizes]
    print(f"Generando entradas: {INSTITUTIONS} instituciones, {sum(rows)} filas "
          f"(mediana {sorted(rows)[len(rows) // 2]} por institución, máximo {max(rows)})…", flush=True)
    folders = write_institutions(work / "inputs", sizes)
    order = list(range(INSTITUTIONS))
    random.Random(7).shuffle(order)
    folders, rows = [folders[i] for i in order], [rows[i] for i in order]
    by_name = {f.name: r for f, r in zip(folders, rows, strict=True)}
    load = os.getloadavg()[0]

    points: list[tuple[int, float]] = []
    growth = []
    with server.api(), PeakMemory() as memory:
        quarter = prefix_up_to(folders, rows, sum(rows) // 4)
        one, runs = timed_run(quarter, work / "run", workers=1)
        points += [(by_name[Path(r.config).parent.name], r.seconds) for r in runs]
        for share in (4, 2, 1):
            chosen = prefix_up_to(folders, rows, sum(rows) // share)
            seconds, runs = timed_run(chosen, work / "run", workers=2)
            points += [(by_name[Path(r.config).parent.name], r.seconds) for r in runs]
            growth.append((sum(by_name[f.name] for f in chosen), len(chosen), seconds))
    intercept, slope = fixed_cost(points)
    print(f"carga del sistema al empezar (1 min): {load:.1f} en {os.cpu_count()} núcleos")
    for total_rows, count, seconds in growth:
        print(f"{total_rows:>9} filas, {count:>3} instituciones, 2 procesos: {seconds:7.1f} s "
              f"({seconds / total_rows * 1e6:.0f} µs/fila)")
    print(f"tiempo total del conjunto completo: {growth[-1][2]:.1f} s  (objetivo ≤ 300 s)")
    print(f"aceleración de 1 a 2 procesos ({growth[0][1]} instituciones): {one:.1f} s → {growth[0][2]:.1f} s = "
          f"{one / growth[0][2]:.2f}×  (objetivo ≥ 1,7×)")
    print(f"coste fijo por institución (intercepto): {intercept:.2f} s, y {slope * 1e6:.0f} µs por fila  "
          f"(objetivo ≤ 0,5 s)")
    print(f"memoria máxima (este proceso y sus hijos): {memory.peak / 2**30:.2f} GB  (objetivo < 4 GB)")
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
