"""Extraction benchmark: a realistic planilla workbook read three ways, in the same run.

Prints our ``extract_file`` time next to ``pandas.read_excel(engine="openpyxl")`` and a bare
python-calamine read of the same file, with the ratios the issue sets as targets (>= 5x faster
than openpyxl, <= 1.5x the bare calamine read; against that read with the cycle collector paused, as
``extract_file`` reads, for information), then the peak memory (max RSS of a child process)
of extracting a 500k-row workbook (target <= 1.5 GB).

The workbook is what directorates produce: banner rows above the header, amounts partly as text
("B/. 1,250.00"), dates as date cells, serials, "15/01/2025" and "2025-01-15", a TOTAL row and a
footnote. It is written by a small streaming writer (openpyxl needs minutes for 500k rows) and
cached under the temp dir, keyed by size. Like Excel, LibreOffice and openpyxl's normal mode, the
writer declares the sheet's ``<dimension>``; the same workbook without it (as openpyxl's
write-only mode saves) is timed too, since then the size guard must scan the whole sheet XML.

    python -m bench.bench_extraction            # 100k rows, 500k for memory
    python -m bench.bench_extraction --small     # 5k rows, 20k for memory (a quick check)
    BENCH_ROWS=50000 BENCH_MEMORY_ROWS=100000 BENCH_ROUNDS=3 python bench/bench_extraction.py

The read times are medians over BENCH_ROUNDS rounds (5) in which the readers take turns.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape

from bench.machine import print_load
from transparencia.schemas import load_catalog
from transparencia.sources.spreadsheet import extract_file

CACHE = Path(tempfile.gettempdir()) / "transparencia-bench"
HEADERS = ["No.", "Unidad Administrativa", "Nombre", "Apellido", "No. de Cédula", "Cargo", "Estado",
           "Salario Mensual (B/.)", "Gastos de Representación", "Fecha de Inicio", "Período", "Observaciones"]
UNITS = ["Dirección de Recursos Humanos", "Dirección de Finanzas", "Despacho Superior", "Dirección de Informática",
         "Asesoría Legal", "Dirección de Planificación"]
NAMES = ["María", "José", "Ana", "Luis", "Carmen", "Carlos", "Rosa", "Jorge", "Elena", "Pedro"]
SURNAMES = ["Rodríguez", "González", "Pérez", "Sánchez", "Núñez", "Castillo", "Ríos", "Vargas"]
POSTS = ["Analista de Sistemas", "Secretaria Ejecutiva", "Conductor", "Asistente Administrativo", "Director", "Abogado"]
STATES = ["PERMANENTE", "EVENTUAL", "Permanente", "INTERINO ABIERTO", "TRANSITORIO"]
COLUMNS = "ABCDEFGHIJKL"


def _cell(ref: str, value: object) -> str:
    if isinstance(value, tuple):  # ("date", serial): a number shown as a date
        return f'<c r="{ref}" s="1"><v>{value[1]}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def _row_values(i: int, rng: random.Random) -> list[object]:
    salary = round(rng.uniform(600, 6000), 2)
    serial = rng.randint(36000, 45650)
    day, month, year = _serial_to_dmy(serial)
    date_kind = i % 4
    start = (("date", serial), f"{day:02d}/{month:02d}/{year}", f"{year}-{month:02d}-{day:02d}", serial)[date_kind]
    amount = salary if i % 3 else f"B/. {salary:,.2f}"
    cedula = f"{rng.randint(1, 13)}-{rng.randint(1, 999)}-{rng.randint(1, 9999)}"
    if i % 10 == 0:
        cedula = cedula.replace("-", " ")
    return [i, UNITS[i % len(UNITS)], rng.choice(NAMES), rng.choice(SURNAMES), cedula, rng.choice(POSTS),
            STATES[i % len(STATES)], amount, 0 if i % 5 else "250.00", start, "2025-01", ""]


def _serial_to_dmy(serial: int) -> tuple[int, int, int]:
    import datetime as dt

    day = dt.date(1899, 12, 30) + dt.timedelta(days=serial)
    return day.day, day.month, day.year


def _sheet_xml(rows: int, dimension: bool) -> object:
    rng = random.Random(2025)
    yield ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
           '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
    if dimension:  # banner, header, rows, TOTAL, a blank row, the footnote
        yield f'<dimension ref="A1:{COLUMNS[-1]}{rows + 7}"/>'
    yield "<sheetData>"
    banner = [["MINISTERIO DE EJEMPLO"], ["Planilla de funcionarios - enero de 2025"], []]
    lines = [*banner, HEADERS]
    for r, values in enumerate(lines, start=1):
        yield f'<row r="{r}">' + "".join(_cell(f"{COLUMNS[c]}{r}", v) for c, v in enumerate(values)) + "</row>"
    first = len(lines) + 1
    chunk = []
    for i in range(rows):
        r = first + i
        chunk.append(f'<row r="{r}">' + "".join(_cell(f"{COLUMNS[c]}{r}", v) for c, v in enumerate(_row_values(i, rng)) if v != "") + "</row>")
        if len(chunk) == 2000:
            yield "".join(chunk)
            chunk = []
    yield "".join(chunk)
    end = first + rows
    yield f'<row r="{end}"><c r="A{end}" t="inlineStr"><is><t>TOTAL</t></is></c><c r="H{end}"><v>1</v></c></row>'
    yield f'<row r="{end + 2}"><c r="A{end + 2}" t="inlineStr"><is><t>Fuente: Dirección de Recursos Humanos</t></is></c></row>'
    yield "</sheetData></worksheet>"


STATIC_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        "</Types>"),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Planilla" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        "</Relationships>"),
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border/></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
        "</styleSheet>"),
}


def planilla_workbook(rows: int, dimension: bool = True) -> Path:
    """The cached benchmark workbook with ``rows`` data rows, written once per size."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"planilla-{rows}{'' if dimension else '-sin-dimension'}.v2.xlsx"
    if path.exists():
        return path
    partial = path.with_suffix(".tmp")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, text in STATIC_PARTS.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for piece in _sheet_xml(rows, dimension):
                sheet.write(piece.encode("utf-8"))
    partial.rename(path)
    return path


def _timed(label: str, action) -> float:
    started = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - started
    print(f"  {label:<42} {elapsed:8.2f} s   ({result})")
    return elapsed


def _alternating(actions: dict[str, tuple[str, Callable[[], str]]], rounds: int) -> dict[str, float]:
    """Each action's median time over ``rounds`` rounds in which the actions take turns.

    On a shared virtual machine one reading of the same action varies by 20 % or more; taking
    turns keeps a slow spell from landing on one side of a ratio only, and the median drops it."""
    times: dict[str, list[float]] = {key: [] for key in actions}
    results: dict[str, str] = {}
    for _ in range(rounds):
        for key, (_label, action) in actions.items():
            started = time.perf_counter()
            results[key] = action()
            times[key].append(time.perf_counter() - started)
    medians = {}
    for key, (label, _action) in actions.items():
        medians[key] = statistics.median(times[key])
        spread = f"{min(times[key]):.2f}-{max(times[key]):.2f}"
        print(f"  {label:<42} {medians[key]:8.2f} s   (mediana de {rounds}; {spread} s) ({results[key]})")
    return medians


def _ours(path: Path) -> str:
    extraction = extract_file(path, load_catalog().get("planilla"))
    return f"{extraction.rows} filas, {len(extraction.failures)} fallos, {len(extraction.dropped)} descartadas"


def _openpyxl(path: Path) -> str:
    import pandas as pd

    frame = pd.read_excel(path, engine="openpyxl", header=3)
    return f"{len(frame)} filas"


def _calamine(path: Path) -> str:
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    return f"{len(rows)} filas"


def _calamine_collector_paused(path: Path) -> str:
    """The bare read with Python's cycle collector paused, as ``extract_file`` reads."""
    import gc

    gc.disable()
    try:
        return _calamine(path)
    finally:
        gc.enable()


def peak_memory(path: Path) -> float:
    """Max RSS in MiB of a fresh process that extracts ``path``."""
    code = (
        "import resource, sys\n"
        "from transparencia.schemas import load_catalog\n"
        "from transparencia.sources.spreadsheet import extract_file\n"
        "e = extract_file(sys.argv[1], load_catalog().get('planilla'))\n"
        "print(e.rows)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], check=True, capture_output=True, text=True)
    _rows, kib = out.stdout.split()
    return int(kib) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="5k rows and 20k rows for memory")
    print_load()
    args = parser.parse_args()
    rows = 5_000 if args.small else int(os.environ.get("BENCH_ROWS", 100_000))
    memory_rows = 20_000 if args.small else int(os.environ.get("BENCH_MEMORY_ROWS", 500_000))
    rounds = int(os.environ.get("BENCH_ROUNDS", 5))

    started = time.perf_counter()
    path = planilla_workbook(rows)
    print(f"Libro de {rows} filas: {path} ({path.stat().st_size / 1024**2:.1f} MiB, "
          f"listo en {time.perf_counter() - started:.1f} s)")
    undeclared = planilla_workbook(rows, dimension=False)
    _ours(path)  # warm up imports so that each timing measures reading only
    _calamine(path)
    times = _alternating({
        "ours": ("transparencia extract_file", lambda: _ours(path)),
        "bare": ("python-calamine (lectura sin procesar)", lambda: _calamine(path)),
        "paused": ("python-calamine, sin recolector de ciclos", lambda: _calamine_collector_paused(path)),
        "scanned": ("extract_file, hoja sin <dimension>", lambda: _ours(undeclared)),
    }, rounds)
    ours, bare = times["ours"], times["bare"]
    slow = _timed('pandas.read_excel(engine="openpyxl")', lambda: _openpyxl(path))
    print(f"  openpyxl / nuestro:  {slow / ours:6.2f}x   (meta >= 5x)   {'OK' if slow / ours >= 5 else 'NO CUMPLE'}")
    print(f"  nuestro / calamine:  {ours / bare:6.2f}x   (meta <= 1.5x) {'OK' if ours / bare <= 1.5 else 'NO CUMPLE'}")
    print(f"  nuestro / calamine sin recolector: {ours / times['paused']:6.2f}x   "
          "(informativo: extract_file pausa el recolector)")
    print(f"  sin <dimension> / calamine: {times['scanned'] / bare:6.2f}x   "
          "(informativo: el tamaño se comprueba leyendo toda la hoja)")

    started = time.perf_counter()
    big = planilla_workbook(memory_rows)
    print(f"Libro de {memory_rows} filas: {big.stat().st_size / 1024**2:.1f} MiB (listo en {time.perf_counter() - started:.1f} s)")
    peak = peak_memory(big)
    print(f"  memoria pico al extraer: {peak:8.0f} MiB   (meta <= 1536 MiB) {'OK' if peak <= 1536 else 'NO CUMPLE'}")


if __name__ == "__main__":
    main()
