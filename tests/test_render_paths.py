"""The column-wise table writers give the bytes the former row-by-row writers gave (issue 21).

Each reference below is the former implementation, kept here only as the oracle: a corpus of every
item of the demo's month plus values that trip writers up must come out byte-identical."""

import contextlib
import csv
import datetime as dt
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from transparencia.domain import Period
from transparencia.errors import TransparenciaError
from transparencia.output.formulas import neutralise_strings
from transparencia.publishers import formats
from transparencia.schemas.table import Field
from transparencia.sources.config import DEFAULT_CONFIG, load_config
from transparencia.sources.demo import write_month
from transparencia.sources.registry import extract_source, planned_extractions

KINDS = ("string", "number", "integer", "date", "boolean", "yearmonth")
NUMBERS = [float("nan"), None, -0.0, 0.0, 1e16, 1e-7, 1e-5, 1e-4, 1e21, 1e22, 5e-324, 1.7976931348623157e308,
           0.1 + 0.2, 1250.0, -125.5, 123456789.125, 12345678901234567.0, float("inf"), float("-inf"), 2.5e-3]
INTEGERS = [0, -1, None, 2**63 - 1, -(2**63), 10**15, 42]
DATES = [dt.datetime(2025, 1, 31), None, dt.datetime(1899, 12, 31), dt.datetime(1850, 6, 1),
         dt.datetime(1900, 2, 28), dt.datetime(1900, 3, 1), dt.datetime(1000, 1, 1), dt.datetime(9999, 12, 31)]
TEXTS = ["=1+1", "+57", "-2", "@SUM(A1)", "\tTAB", "\rCR", "a\r\nb", "a\nb", 'di "jo"', '"', "a,b", ",", "",
         " ", "🙂 non-BMP 𝄞", "\x7f\u2028\\n\x1f", "\\", "a\x1fb", "Ñandú", None, float("nan"), "'=ya", "x\x0by", "\x00", "a;b", "a\tb", "ﬁ"]
BOOLEANS = [True, False, None]


def _reference_csv_column(series: pd.Series, field: Field) -> pd.Series:
    """The former CSV cells: Python per value (repr, csv module), the oracle of ``write_csv``."""
    missing = series.isna()
    if field.type == "number":
        texts = [t[:-2] if t.endswith(".0") else t for t in map(float.__repr__, series.astype("float64").tolist())]
        text = pd.Series([formats._number_text(float(t)) if "e" in t else t for t in texts],
                         index=series.index, dtype=object)
    elif field.type == "integer":
        text = series.astype("Int64").astype("string")
    elif field.type == "date":
        text = pd.to_datetime(series).dt.strftime("%Y-%m-%d")
    elif field.type == "boolean":
        text = series.map(lambda v: "true" if v else "false", na_action="ignore")
    else:
        arrow = pa.array(series.astype(object), type=pa.string(), from_pandas=True)
        text = pd.Series(neutralise_strings(arrow).to_numpy(zero_copy_only=False), index=series.index, dtype=object)
    return text.astype(object).where(~missing, "")


def _reference_csv(frame: pd.DataFrame, fields: list[Field], path: Path) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow([f.name for f in fields])
        writer.writerows(zip(*[_reference_csv_column(frame[f.name], f) for f in fields]))


def _field(name: str, kind: str) -> Field:
    return Field(name=name, type=kind, title=name.capitalize(), description="")


def _column(kind: str, rows: int) -> pd.Series:
    values = {"number": NUMBERS, "integer": INTEGERS, "date": DATES, "boolean": BOOLEANS}.get(kind, TEXTS)
    cycled = [values[i % len(values)] for i in range(rows)]
    if kind == "integer":
        return pd.Series(cycled, dtype="Int64")
    if kind == "date":
        return pd.Series(cycled, dtype="datetime64[s]")
    if kind == "number":
        return pd.Series(cycled, dtype="float64")
    return pd.Series(cycled, dtype=object)


def _edge_tables() -> list[tuple[pd.DataFrame, list[Field]]]:
    """Every kind of column with the tricky values, together, alone, empty; text also as pandas ``str``."""
    fields = [_field(f"c{i}_{kind}", kind) for i, kind in enumerate(KINDS)]
    rows = 3 * len(TEXTS) * len(NUMBERS)
    together = pd.DataFrame({f.name: _column(f.type, rows) for f in fields})
    tables = [(together, fields), (together.iloc[:0], fields)]
    tables += [(together[[f.name]], [f]) for f in fields]
    tables += [(together[[f.name]].iloc[:0], [f]) for f in fields]
    as_str = pd.DataFrame({"t": pd.Series([t for t in TEXTS if isinstance(t, str)] + [None], dtype="str")})
    tables.append((as_str, [_field("t", "string")]))
    randoms = np.random.default_rng(7).standard_normal(5000) * 10.0 ** np.random.default_rng(8).integers(-12, 24, 5000)
    amounts = np.round(np.random.default_rng(9).uniform(-1e6, 1e7, 5000), 2)
    tables.append((pd.DataFrame({"n": randoms, "m": amounts}), [_field("n", "number"), _field("m", "number")]))
    return tables


def _demo_tables(tmp_path: Path) -> list[tuple[pd.DataFrame, list[Field]]]:
    """Every item of the demo's month as extracted (typed), with its schema's fields."""
    for name in ("institution.yaml", "catalog-override.yaml"):
        shutil.copy(DEFAULT_CONFIG.parent / name, tmp_path / name)
    config = load_config(tmp_path / "institution.yaml")
    period = Period(2026, 10)
    write_month(config, period)
    tables = []
    for source, code in planned_extractions(config):
        with contextlib.suppress(TransparenciaError):  # the demo's missing source: the others still count
            frame = extract_source(config, source, code, period).frame
            fields = [f for f in config.catalog.get(code).table_schema().fields if f.name in frame.columns]
            tables.append((frame, fields))
    return tables


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[tuple[pd.DataFrame, list[Field]]]:
    tables = _demo_tables(tmp_path_factory.mktemp("demo")) + _edge_tables()
    assert sum(len(frame) for frame, _ in tables) > 1000
    return tables


def test_csv_written_column_wise_equals_the_former_row_writer(corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(formats, "CHUNK_ROWS", 97)  # several chunks, and a short last one
    for number, (frame, fields) in enumerate(corpus):
        new, old = tmp_path / f"{number}-new.csv", tmp_path / f"{number}-old.csv"
        formats.write_csv(frame, fields, new)
        _reference_csv(frame, fields, old)
        assert new.read_bytes() == old.read_bytes(), (number, [f.name for f in fields])


def test_csv_refuses_a_lone_surrogate_as_the_former_writer_did(tmp_path):
    frame = pd.DataFrame({"t": pd.Series(["ok", "\ud800"], dtype=object)})
    fields = [_field("t", "string")]
    with pytest.raises(Exception) as former:
        _reference_csv(frame, fields, tmp_path / "old.csv")
    with pytest.raises(type(former.value)):
        formats.write_csv(frame, fields, tmp_path / "new.csv")


def _xlsx(frame: pd.DataFrame, fields: list[Field], path: Path, title: str, day: int) -> bytes:
    formats.write_xlsx(frame, fields, path, sheet_title=title, document_date=dt.datetime(2026, 10, day))
    return path.read_bytes()


def test_a_retitled_xlsx_equals_the_workbook_written_under_that_title(corpus, tmp_path, monkeypatch):
    """An item's first history copies its month's sheets: the same bytes as writing the history."""
    monkeypatch.setattr(formats, "CHUNK_ROWS", 97)
    for number, (frame, fields) in enumerate(corpus):
        if not fields:
            continue
        month, history = tmp_path / f"{number}-month.xlsx", tmp_path / f"{number}-history.xlsx"
        _xlsx(frame, fields, month, "Planilla 2026-10", 1)
        written = _xlsx(frame, fields, history, "Planilla: histórico & <más> de 31 caracteres", 2)
        formats.write_xlsx_retitled(month, history, sheet_title="Planilla: histórico & <más> de 31 caracteres",
                                    document_date=dt.datetime(2026, 10, 2))
        assert history.read_bytes() == written, (number, [f.name for f in fields])


@pytest.mark.parametrize("limit", ["sheets", "zip64"])
def test_a_retitled_xlsx_of_several_sheets_or_zip64_entries_equals_the_written_one(tmp_path, monkeypatch, limit):
    frame, fields = _edge_tables()[0]
    if limit == "sheets":
        monkeypatch.setattr(formats, "XLSX_MAX_ROWS", 150)
    else:
        monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 2_000)
    month, history = tmp_path / "month.xlsx", tmp_path / "history.xlsx"
    _xlsx(frame, fields, month, "Mes", 1)
    written = _xlsx(frame, fields, history, "Histórico", 2)
    formats.write_xlsx_retitled(month, history, sheet_title="Histórico", document_date=dt.datetime(2026, 10, 2))
    with zipfile.ZipFile(history) as archive:
        assert len([n for n in archive.namelist() if n.startswith("xl/worksheets/")]) == (
            -(-len(frame) // 150) if limit == "sheets" else 1)
    assert history.read_bytes() == written


def _reference_factorised(series: pd.Series, encode) -> np.ndarray:
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return np.array([*map(encode, uniques.tolist()), "null"], dtype=object)[codes]


def _reference_json_column(series: pd.Series, field: Field) -> np.ndarray:
    """The former JSON value texts: Python per distinct value (texts, dates) or per value (numbers)."""
    missing = series.isna().to_numpy()
    encode = json.encoder.encode_basestring
    if field.type == "date":
        return _reference_factorised(pd.to_datetime(series).dt.strftime("%Y-%m-%d"), encode)
    if field.type == "number":
        values = series.astype("float64").to_numpy()
        if np.isinf(values).any():
            raise ValueError("Out of range float values are not JSON compliant")
        texts = np.array(list(map(float.__repr__, values.tolist())), dtype=object)
    elif field.type == "integer":
        texts = np.array([None if m else str(int(v)) for v, m in zip(series.tolist(), missing)], dtype=object)
    elif field.type == "boolean":
        return _reference_factorised(series.map(bool, na_action="ignore"), lambda v: "true" if v else "false")
    else:
        return _reference_factorised(series, lambda v: encode(str(v)))
    texts[missing] = "null"
    return texts


def _reference_json(frame: pd.DataFrame, fields: list[Field], path: Path) -> None:
    """The former JSON writer: a ``str.format`` per record over the columns' value texts."""
    keys = (json.dumps(f.name, ensure_ascii=False).replace("{", "{{").replace("}", "}}") for f in fields)
    record = "{{" + ", ".join(f"{key}: {{}}" for key in keys) + "}}"
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write("[")
        separator = "\n"
        for start in range(0, len(frame), formats.CHUNK_ROWS):
            chunk = frame.iloc[start:start + formats.CHUNK_ROWS]
            columns = [_reference_json_column(chunk[f.name], f) for f in fields]
            handle.write(separator + ",\n".join(map(record.format, *columns)))
            separator = ",\n"
        handle.write("\n]\n")


def _outcome(write, frame, fields, path: Path) -> bytes | type:
    """The bytes written, or the type of the error raised."""
    try:
        write(frame, fields, path)
    except Exception as error:  # the refusal itself is compared
        return type(error)
    return path.read_bytes()


def test_json_joined_with_arrow_equals_the_former_record_formatting(corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(formats, "CHUNK_ROWS", 97)
    finite = [(frame.replace([np.inf, -np.inf], np.nan), fields) for frame, fields in corpus]
    finite += [(frame.astype({f.name: "str" for f in fields if f.type in ("string", "yearmonth")}), fields)
               for frame, fields in finite]
    surrogate = (pd.DataFrame({"t": pd.Series(["ok", "\ud800"], dtype=object)}), [_field("t", "string")])
    odd_names = (pd.DataFrame({'a "b" {c}': [1.5], "ñ\t": ["x"]}), [_field('a "b" {c}', "number"), _field("ñ\t", "string")])
    written = 0
    for number, (frame, fields) in enumerate([*corpus, *finite, surrogate, odd_names]):
        new = _outcome(formats.write_json, frame, fields, tmp_path / f"{number}-new.json")
        old = _outcome(_reference_json, frame, fields, tmp_path / f"{number}-old.json")
        assert new == old, (number, [f.name for f in fields])
        written += isinstance(new, bytes)
    assert written > len(corpus)


def _reference_text_cells(text: pa.Array, opening: str, numbers: pa.Array) -> pa.Array:
    """The former XLSX text cells: every value made safe, repeated or not."""
    return formats._join(opening, numbers, '" t="inlineStr"><is><t xml:space="preserve">', formats._xlsx_text(text),
                         "</t></is></c>")


def test_xlsx_text_made_safe_once_per_distinct_text_equals_every_value_made_safe(corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(formats, "CHUNK_ROWS", 97)
    long_texts = pd.DataFrame({"t": ["x" * 40_000, "=" + "y" * 40_000, "x" * 40_000, "a\x01&<>\r\nb", None]})
    for number, (frame, fields) in enumerate([*corpus, (long_texts, [_field("t", "string")])]):
        if not fields:
            continue
        new = _xlsx(frame, fields, tmp_path / f"{number}-new.xlsx", "Planilla", 1)
        with monkeypatch.context() as former:
            former.setattr(formats, "_text_cells", _reference_text_cells)
            old = _xlsx(frame, fields, tmp_path / f"{number}-old.xlsx", "Planilla", 1)
        assert new == old, (number, [f.name for f in fields])
