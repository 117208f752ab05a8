"""Reading CSV files as directorates save them: encoding and separator are detected, not assumed.

Excel on Windows saves "CSV" in Windows-1252 with ";" when the regional decimal is a comma;
other tools write UTF-8 with or without a BOM, or Latin-1, with ",". Every value is returned as
text, so IDs keep their leading zeros; typing happens in ``normalise``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from transparencia.errors import InputError

SEPARATORS = ",;\t|"
SAMPLE_LINES = 50


@dataclass
class CsvText:
    rows: list[list[str]]
    line_numbers: list[int]  # 1-based line where each record starts
    encoding: str
    separator: str


def decode(data: bytes) -> tuple[str, str]:
    """The text and the name of the encoding it was in: UTF-8 (BOM or not), else Windows-1252, else Latin-1."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "UTF-8 con BOM"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "Latin-1"


def detect_separator(text: str) -> str:
    """The separator that splits the first lines into the most consistent number of fields (>1)."""
    lines = [line for line in text.splitlines()[:SAMPLE_LINES] if line.strip()]
    best, best_score = ",", -1.0
    for sep in SEPARATORS:
        counts = [len(r) for r in csv.reader(lines, delimiter=sep)]
        if not counts or max(counts) < 2:
            continue
        widest = max(counts)
        score = sum(1 for c in counts if c == widest) * widest  # data rows share the header's width
        if score > best_score:
            best, best_score = sep, score
    return best


def read_csv_text(path: Path, data: bytes | None = None) -> CsvText:
    """Rows of the CSV at ``path`` as text, with the line number where each record starts."""
    if data is None:
        data = path.read_bytes()
    if b"\x00" in data[:4096]:
        raise InputError(f"El archivo '{path}' no es texto CSV (contiene datos binarios).")
    text, encoding = decode(data)
    separator = detect_separator(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    rows: list[list[str]] = []
    starts: list[int] = []
    previous_end = 0
    try:
        for row in reader:
            rows.append(row)
            starts.append(previous_end + 1)
            previous_end = reader.line_num
    except csv.Error as exc:
        raise InputError(f"El archivo CSV '{path}' está mal formado cerca de la línea {reader.line_num}: {exc}") from None
    return CsvText(rows, starts, encoding, separator)
