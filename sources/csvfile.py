"""Reading CSV files as directorates save them: encoding and separator are detected, not assumed.

Excel on Windows saves "CSV" in Windows-1252 with ";" when the regional decimal is a comma, and
"Texto Unicode" in UTF-16 with tabs; other tools write UTF-8 with or without a BOM, or Latin-1,
with ",". Files concatenated from several exports can mix UTF-8 and Windows-1252 lines. Every value is returned as
text, so IDs keep their leading zeros; typing happens in ``normalise``.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from transparencia.errors import InputError

SEPARATORS = ",;\t|"
SAMPLE_LINES = 50


UTF16_BOMS = ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")  # a multi-byte UTF-8 character
# UTF-8 text that was once read as Windows-1252 and saved again ('JosÃ©'): the lead byte of a
# two- or three-byte UTF-8 character ('Ã', 'Â', 'â') followed by what its continuation bytes become
# in Windows-1252. Spanish text never has these sequences.
_CONTINUATION = "[" + re.escape(bytes(range(0x80, 0xC0)).decode("cp1252", errors="ignore")) + "]"
_MOJIBAKE = re.compile(f"[\u00c2\u00c3]{_CONTINUATION}|\u00e2{_CONTINUATION}{{2}}")


@dataclass
class Decoded:
    text: str
    encoding: str  # Spanish label for the notes
    repaired_lines: list[int] = field(default_factory=list)  # 1-based lines read otherwise than the rest


@dataclass
class CsvText:
    rows: list[list[str]]
    line_numbers: list[int]  # 1-based line where each record starts
    encoding: str
    separator: str
    repaired_lines: list[int] = field(default_factory=list)


def decode(data: bytes) -> Decoded:
    """The text, the encoding it was in and the lines that needed another one.

    UTF-16 with a BOM (Excel's "Texto Unicode"), UTF-8 (BOM or not), else Windows-1252, else
    Latin-1. A file concatenated from UTF-8 and Windows-1252 exports is decoded line by line, and
    UTF-8 lines that were once garbled through Windows-1252 ('JosÃ©') are restored; both kinds of
    line are listed, so the report says exactly which rows were read differently.
    """
    for bom, codec in UTF16_BOMS:
        if data.startswith(bom):
            return Decoded(data[len(bom):].decode(codec, errors="replace"), "UTF-16 (Texto Unicode de Excel)")
    if _looks_utf16_le(data):
        return Decoded(data.decode("utf-16-le", errors="replace"), "UTF-16 (Texto Unicode de Excel)")
    label = "UTF-8"
    if data.startswith(b"\xef\xbb\xbf"):
        data, label = data[3:], "UTF-8 con BOM"
    try:
        return _unmangled(data.decode("utf-8"), label)
    except UnicodeDecodeError:
        pass
    if _UTF8_SEQUENCE.search(data) is None:
        try:
            return Decoded(data.decode("cp1252"), "Windows-1252")
        except UnicodeDecodeError:
            return Decoded(data.decode("latin-1"), "Latin-1")
    return _per_line(data, label)


def _looks_utf16_le(data: bytes) -> bool:
    """BOM-less UTF-16 (little endian): a NUL after nearly every character of Latin text."""
    head = data[:4096]
    return len(head) >= 8 and head[1::2].count(0) >= 0.9 * (len(head) // 2) and head[0::2].count(0) == 0


def _per_line(data: bytes, label: str) -> Decoded:
    lines, repaired = [], []
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(line.decode("cp1252", errors="replace"))
            repaired.append(number)
    return _unmangled("\n".join(lines), f"{label} con líneas en Windows-1252", repaired)


def _unmangled(text: str, label: str, repaired: list[int] | None = None) -> Decoded:
    """Restore lines garbled by a round trip through Windows-1252, recording which."""
    repaired = list(repaired or [])
    if _MOJIBAKE.search(text) is None:
        return Decoded(text, label, repaired)
    lines = text.split("\n")
    for i, line in enumerate(lines):
        restored = _MOJIBAKE.sub(_restore, line)
        if restored != line:
            lines[i] = restored
            repaired.append(i + 1)
    return Decoded("\n".join(lines), label, sorted(set(repaired)))


def _restore(garbled: re.Match) -> str:
    try:
        return garbled[0].encode("cp1252").decode("utf-8")
    except UnicodeError:
        return garbled[0]


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
    decoded = decode(data)
    text = decoded.text
    if "\x00" in text[:4096]:
        raise InputError(f"El archivo '{path}' no es texto CSV (contiene datos binarios).")
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
    return CsvText(rows, starts, decoded.encoding, separator, decoded.repaired_lines)
