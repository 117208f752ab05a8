"""File writers for published tables: CSV, XLSX, JSON and Parquet, typed by the schema's fields.

Every writer is deterministic (same frame, same bytes), which is what lets publishers skip
unchanged files by sha256. Files are written in row chunks so a big frame is never copied whole.

Conventions a re-user can rely on:
  * CSV: UTF-8 with BOM (Excel shows accents), comma separated, CRLF line ends (RFC 4180), header = field names, ISO dates
    (AAAA-MM-DD), '.' as decimal mark, no thousands separators, empty cell for a missing value.
  * XLSX: header = field titles (bold, frozen), numbers as numbers, dates as dates (yyyy-mm-dd); a table
    longer than Excel's row limit continues on further sheets ("Planilla histórico (2)"). Excel's own
    limits apply: a date before 1900 is written as ISO text, a text is cut at 32,767 characters.
  * JSON: a list of records ``[{"campo": valor, ...}, ...]`` keyed by field name in schema order,
    UTF-8, ISO dates, numbers as numbers, ``null`` for a missing value.
  * Parquet: typed columns (text, float64, int64, date32 or ISO text, bool).
  * CSV and XLSX text cells starting with ``= + - @``, tab or carriage return get a leading ``'``
    so spreadsheet programs never run them as formulas; numbers are left as they are.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import struct
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from transparencia.domain import OutputFormat
from transparencia.domain.registry import Registry
from transparencia.output.csvfile import LINE_END, quote_strings, write_csv_lines
from transparencia.output.formulas import FORMULA_TRIGGERS, neutralise, neutralise_strings
from transparencia.schemas.table import Field

CHUNK_ROWS = 20_000
# Excel's row limit minus the header: a longer table (a big history) continues on another sheet.
XLSX_MAX_ROWS = 1_048_575
# Zip entries and document properties carry this date so an XLSX does not change between runs.
_FIXED_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
# Deflate level for XLSX parts: 1 is several times faster than the default 6 for a few percent more bytes.
XLSX_COMPRESSLEVEL = 1
# A zip entry's local header before its name and extra field (PKWARE APPNOTE 4.3.7).
_LOCAL_HEADER_SIZE = 30


def _chunks(frame: pd.DataFrame) -> Iterator[pd.DataFrame]:
    for start in range(0, len(frame), CHUNK_ROWS):
        yield frame.iloc[start:start + CHUNK_ROWS]


def _number_text(value: float) -> str:
    """Shortest plain decimal for a float: 1250.0 -> '1250', 0.1 -> '0.1', never '1e+16'."""
    return np.format_float_positional(value, trim="-")


def _number_texts(series: pd.Series) -> pa.Array:
    """``_number_text`` of every value (null where missing), fast: Arrow writes the same shortest digits;
    only values Arrow writes with an exponent (rare in amounts) go through NumPy's positional format."""
    values = series.astype("float64").to_numpy(dtype="float64", na_value=np.nan)
    texts, exponent = _float_texts(values)
    if not exponent.any():
        return texts
    return _replaced(texts, exponent, [_number_text(value) for value in values[exponent]])


def _float_texts(values: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """Arrow's shortest text of each float (null for NaN), and where it wrote an exponent."""
    texts = pa.array(values, mask=np.isnan(values)).cast(pa.large_string())
    return texts, pc.match_substring(texts, "e").fill_null(False).to_numpy(zero_copy_only=False)


def _per_distinct(texts: pa.Array, transform: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """``transform`` of each text, computed once per distinct text (most columns repeat a few); a
    missing text stays missing."""
    distinct = pc.dictionary_encode(texts)
    return pc.take(transform(distinct.dictionary), distinct.indices)


def _replaced(texts: pa.Array, where: np.ndarray, values: Sequence[str]) -> pa.Array:
    """``texts`` with its entries at ``where`` (a mask) replaced, in order, by ``values``: the few
    values a column-wise conversion leaves to Python."""
    fixed = texts.to_numpy(zero_copy_only=False)
    fixed[where] = values
    return pa.array(fixed, type=pa.large_string())


def _csv_cells(series: pd.Series, field: Field, only_cell: bool) -> pa.Array:
    """One column as its CSV cells ('' for missing), quoted as the csv module quotes them."""
    if field.type == "number":
        text = _number_texts(series)
    elif field.type == "integer":
        text = pa.array(series.astype("Int64"), from_pandas=True).cast(pa.large_string())
    elif field.type == "date":
        text = pa.array(pd.to_datetime(series).dt.strftime("%Y-%m-%d"), type=pa.large_string(), from_pandas=True)
    elif field.type == "boolean":
        text = pa.array(series.map(lambda v: "true" if v else "false", na_action="ignore"),
                        type=pa.large_string(), from_pandas=True)
    else:
        text = _per_distinct(pa.array(series.astype(object), type=pa.large_string(), from_pandas=True),
                             lambda texts: quote_strings(neutralise_strings(texts), only_cell=only_cell))
    # numbers, dates and booleans never hold what the csv module quotes; an empty cell may need quotes
    empty = quote_strings(pa.array([""], pa.large_string()), only_cell=only_cell)[0]
    return text.fill_null(empty)


def write_csv(frame: pd.DataFrame, fields: Sequence[Field], path: Path) -> None:
    """CSV for Excel and for machines: UTF-8 with BOM, ISO dates, '.' decimals, formulas neutralised.

    Each chunk's lines are built column-wise with Arrow (as the XLSX rows are), the same bytes the csv
    module writes for the same cells at a fraction of the per-value Python work."""
    write_csv_lines(path, [f.name for f in fields], _csv_lines(frame, fields))


def _csv_lines(frame: pd.DataFrame, fields: Sequence[Field]) -> Iterator[memoryview]:
    if not fields:
        return
    for chunk in _chunks(frame):
        cells = [_csv_cells(chunk[f.name], f, only_cell=len(fields) == 1) for f in fields]
        rows = pc.binary_join_element_wise(*cells, pa.scalar(",", pa.large_string()))
        yield _concatenated(_join(rows, LINE_END))


def read_csv(path: Path, fields: Sequence[Field]) -> pd.DataFrame:
    """A CSV that ``write_csv`` wrote, read back with the fields' types (a month as the portal holds
    it): writing the frame again gives the same bytes. Columns the file lacks (not published) are
    empty; a neutralised formula loses its leading ``'``."""
    text = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
    return pd.DataFrame({f.name: _typed_column(text[f.name], f) if f.name in text.columns
                         else pd.Series([None] * len(text), dtype=object) for f in fields})


def _typed_column(text: pd.Series, field: Field) -> pd.Series:
    if field.type == "number":
        return pd.to_numeric(text).astype("float64")
    if field.type == "integer":
        return pd.to_numeric(text).astype("Int64")
    if field.type == "date":
        return pd.to_datetime(text, format="%Y-%m-%d").dt.date.astype(object).where(text.notna(), None)
    if field.type == "boolean":
        return text.map({"true": True, "false": False}).astype(object).where(text.notna(), None)
    unneutralised = text.where(~text.str.match(_NEUTRALISED, na=False), text.str[1:])
    return unneutralised.astype(object).where(text.notna(), None)


_NEUTRALISED = "^'[" + "".join(re.escape(t) for t in FORMULA_TRIGGERS) + "]"


# --- XLSX, written directly: a zip of a few XML parts; the sheet rows are built column-wise with Arrow. ---

_XLSX_COLUMN_WIDTH = (12, 40)
# Excel refuses a cell longer than this; the CSV and JSON keep the whole text.
_XLSX_MAX_TEXT = 32_767
# Characters XML 1.0 forbids (tab, LF and CR are allowed and kept).
_XML_FORBIDDEN = "[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"
_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
# Excel counts a 29 February 1900 that never existed: serials before 1 March 1900 are one lower.
_EXCEL_LEAP_BUG_SERIAL = 61
_STYLE_HEADER, _STYLE_DATE = 1, 2
_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_STYLES = (
    f'{_XML_DECLARATION}<styleSheet xmlns="{_NS_MAIN}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>'
)
_ROOT_RELS = (
    f'{_XML_DECLARATION}<Relationships xmlns="{_NS_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_NS_REL}/officeDocument" Target="xl/workbook.xml"/>'
    f'<Relationship Id="rId2" Type="{_NS_PKG_REL}/metadata/core-properties" Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{_NS_REL}/extended-properties" Target="docProps/app.xml"/>'
    '</Relationships>'
)
_APP_PROPERTIES = (
    f'{_XML_DECLARATION}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    '<Application>transparencia</Application></Properties>'
)


def write_xlsx(frame: pd.DataFrame, fields: Sequence[Field], path: Path, *, sheet_title: str,
               document_date: dt.datetime) -> None:
    """XLSX with typed cells; ``document_date`` fills the created/modified properties so bytes are stable.

    The parts are written by hand rather than through openpyxl, which spent ~0.3 ms per row building cell
    objects; here each column becomes its cells' XML in a few Arrow string operations.
    """
    try:
        _write_workbook(frame, fields, path, sheet_title, document_date, zip64=False)
    except RuntimeError as error:
        if "force_zip64" not in str(error):
            raise
        _write_workbook(frame, fields, path, sheet_title, document_date, zip64=True)


def _write_workbook(frame: pd.DataFrame, fields: Sequence[Field], path: Path, sheet_title: str,
                    document_date: dt.datetime, *, zip64: bool) -> None:
    """The workbook zip; ZIP64 entries only when a sheet outgrows 2 GiB, since some Excel versions balk at them."""
    sheets = max(1, -(-len(frame) // XLSX_MAX_ROWS))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        _put_workbook_parts(archive, sheets, sheet_title, document_date)
        for number in range(sheets):
            part = frame.iloc[number * XLSX_MAX_ROWS:(number + 1) * XLSX_MAX_ROWS]
            entry = _zip_entry(f"xl/worksheets/sheet{number + 1}.xml")
            with archive.open(entry, "w", force_zip64=zip64) as stream:
                _write_sheet(stream, part, fields)


def _put_workbook_parts(archive: zipfile.ZipFile, sheets: int, sheet_title: str, document_date: dt.datetime) -> None:
    """Every part before the sheets: the only ones the title and the date change."""
    titles = [_sheet_title(sheet_title, number) for number in range(1, sheets + 1)]
    _put(archive, "[Content_Types].xml", _content_types(sheets))
    _put(archive, "_rels/.rels", _ROOT_RELS)
    _put(archive, "docProps/app.xml", _APP_PROPERTIES)
    _put(archive, "docProps/core.xml", _core_properties(sheet_title, document_date))
    _put(archive, "xl/workbook.xml", _workbook(titles))
    _put(archive, "xl/_rels/workbook.xml.rels", _workbook_rels(sheets))
    _put(archive, "xl/styles.xml", _STYLES)


def write_xlsx_retitled(source: Path, path: Path, *, sheet_title: str, document_date: dt.datetime) -> None:
    """What ``write_xlsx`` writes for the frame of ``source`` (a workbook it wrote) under another title and
    date, without building the sheets again: their compressed entries are copied byte for byte (building
    and compressing a sheet is nearly all of an XLSX's cost; an item's first history is its month's rows)."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        sheets = [info for info in original.infolist() if info.filename.startswith("xl/worksheets/")]
        _put_workbook_parts(archive, len(sheets), sheet_title, document_date)
        for info in sheets:
            _copy_entry(original, info, archive)


def _copy_entry(original: zipfile.ZipFile, info: zipfile.ZipInfo, archive: zipfile.ZipFile) -> None:
    """Append an entry's local header and compressed data as they are; the central directory that
    ``archive`` writes on closing lists it from a copy of its ``ZipInfo`` at its new offset."""
    assert original.fp is not None and archive.fp is not None
    original.fp.seek(info.header_offset)
    header = original.fp.read(_LOCAL_HEADER_SIZE)
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    body = original.fp.read(name_length + extra_length + info.compress_size)
    moved = copy.copy(info)
    moved.header_offset = archive.fp.tell()
    archive.fp.write(header + body)
    archive.start_dir = archive.fp.tell()
    archive.filelist.append(moved)
    archive.NameToInfo[moved.filename] = moved
    archive._didModify = True  # type: ignore[attr-defined]


def _sheet_title(text: str, number: int) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\; later sheets get ' (2)', ' (3)'..."""
    suffix = "" if number == 1 else f" ({number})"
    return (re.sub(r"[\[\]:*?/\\]", " ", text) or "Datos")[:31 - len(suffix)] + suffix


def _zip_entry(name: str) -> zipfile.ZipInfo:
    """An entry with a fixed date and mode, so the same workbook gives the same bytes."""
    info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    # the public name (compress_level) only exists from Python 3.13
    info._compresslevel = XLSX_COMPRESSLEVEL  # type: ignore[attr-defined]
    info.external_attr = 0o600 << 16
    return info


def _put(archive: zipfile.ZipFile, name: str, text: str) -> None:
    archive.writestr(_zip_entry(name), text.encode("utf-8"))


def _content_types(sheets: int) -> str:
    sheet_parts = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for n in range(1, sheets + 1)
    )
    return (
        f'{_XML_DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        f'{sheet_parts}'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        '<Override PartName="/docProps/app.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
        '</Types>'
    )


def _core_properties(title: str, document_date: dt.datetime) -> str:
    stamp = document_date.strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f'{_XML_DECLARATION}<cp:coreProperties '
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f'<dc:title>{_escape(_clean(title))}</dc:title><dc:creator>transparencia</dc:creator>'
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        '</cp:coreProperties>'
    )


def _workbook(titles: list[str]) -> str:
    sheets = "".join(
        f'<sheet name="{_escape(_clean(title))}" sheetId="{n}" r:id="rId{n}"/>' for n, title in enumerate(titles, 1)
    )
    return (
        f'{_XML_DECLARATION}<workbook xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}">'
        f'<workbookPr/><bookViews><workbookView activeTab="0"/></bookViews><sheets>{sheets}</sheets></workbook>'
    )


def _workbook_rels(sheets: int) -> str:
    parts = "".join(
        f'<Relationship Id="rId{n}" Type="{_NS_REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for n in range(1, sheets + 1)
    )
    return (
        f'{_XML_DECLARATION}<Relationships xmlns="{_NS_PKG_REL}">{parts}'
        f'<Relationship Id="rId{sheets + 1}" Type="{_NS_REL}/styles" Target="styles.xml"/></Relationships>'
    )


def _clean(text: str) -> str:
    return re.sub(_XML_FORBIDDEN, "", text)


def _escape(text: str) -> str:
    """Text safe inside an XML element or a double-quoted attribute; CR as a reference so parsers keep it."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("\r", "&#13;"))


def _column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _write_sheet(stream, frame: pd.DataFrame, fields: Sequence[Field]) -> None:
    """One worksheet: frozen bold header, column widths from the titles, then the rows chunk by chunk."""
    letters = [_column_letter(i) for i in range(len(fields))]
    widths = "".join(
        f'<col min="{i}" max="{i}" width="{max(_XLSX_COLUMN_WIDTH[0], min(_XLSX_COLUMN_WIDTH[1], len(f.title) + 4))}" '
        'customWidth="1"/>'
        for i, f in enumerate(fields, 1)
    )
    header = "".join(
        f'<c r="{letter}1" s="{_STYLE_HEADER}" t="inlineStr"><is><t xml:space="preserve">'
        f'{_escape(_clean(neutralise(f.title)))}</t></is></c>'
        for letter, f in zip(letters, fields)
    )
    stream.write((
        f'{_XML_DECLARATION}<worksheet xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}">'
        f'<dimension ref="A1:{letters[-1]}{len(frame) + 1}"/>'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
        'state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{widths}</cols>'
        f'<sheetData><row r="1">{header}</row>'
    ).encode())
    chunks = (_rows_xml(frame.iloc[start:start + CHUNK_ROWS], fields, letters, first_row=start + 2)
              for start in range(0, len(frame), CHUNK_ROWS))
    if len(frame) <= CHUNK_ROWS:  # one chunk (most months): nothing to overlap, no thread to start
        for rows in chunks:
            stream.write(rows)
    else:
        # Building a chunk's XML (Arrow) and compressing the previous one (zlib) both release the GIL, so a
        # second thread compresses while the next chunk is built: ~1.5x faster on two cores, same bytes.
        with ThreadPoolExecutor(max_workers=1) as compressor:
            pending = compressor.submit(lambda: None)
            for rows in chunks:
                pending.result()
                pending = compressor.submit(stream.write, rows)
            pending.result()
    stream.write(b"</sheetData></worksheet>")


def _rows_xml(chunk: pd.DataFrame, fields: Sequence[Field], letters: list[str], first_row: int) -> memoryview:
    """The ``<row>`` elements of a chunk as UTF-8 bytes, built column by column; a missing value has no cell."""
    numbers = pa.array(np.arange(first_row, first_row + len(chunk), dtype=np.int64)).cast(pa.large_string())
    cells = [_cells_xml(chunk[f.name], f, f'<c r="{letter}', numbers) for f, letter in zip(fields, letters)]
    rows = _join('<row r="', numbers, '">', *cells, "</row>", skip_missing=True)
    return _concatenated(rows)


def _concatenated(strings: pa.Array) -> memoryview:
    """All the strings of a null-free Arrow string array, back to back: its data buffer, without copying."""
    offset_type = np.int64 if pa.types.is_large_string(strings.type) else np.int32
    offsets = np.frombuffer(strings.buffers()[1], dtype=offset_type)[strings.offset:strings.offset + len(strings) + 1]
    return memoryview(strings.buffers()[2])[offsets[0]:offsets[-1]]


def _cells_xml(series: pd.Series, field: Field, opening: str, numbers: pa.Array) -> pa.Array:
    """Each value's ``<c>`` element (null where the value is missing) for one column."""
    if field.type in ("number", "integer"):
        return _join(opening, numbers, '"><v>', _number_strings(series, field), "</v></c>")
    if field.type == "boolean":
        flags = pa.array(series.astype("boolean"), from_pandas=True).cast(pa.int8()).cast(pa.large_string())
        return _join(opening, numbers, '" t="b"><v>', flags, "</v></c>")
    if field.type == "date":
        return _date_cells(series, opening, numbers)
    return _text_cells(_arrow_text(series), opening, numbers)


def _join(*parts, skip_missing: bool = False) -> pa.Array:
    """Concatenate texts and string arrays element-wise; a missing part makes the result missing unless skipped."""
    texts = [pa.scalar(p, pa.large_string()) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*texts, pa.scalar("", pa.large_string()),
                                       null_handling="skip" if skip_missing else "emit_null")


def _number_strings(series: pd.Series, field: Field) -> pa.Array:
    """Shortest round-trip decimal text of each number; NaN and infinities (Excel has neither) are missing."""
    if field.type == "integer":
        return pa.array(series.astype("Int64"), from_pandas=True).cast(pa.large_string())
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    return pa.array(values, mask=~np.isfinite(values)).cast(pa.large_string())


def _date_cells(series: pd.Series, opening: str, numbers: pa.Array) -> pa.Array:
    """Dates as Excel serial days in the date style; a date before 1900, which Excel cannot hold, as ISO text."""
    dates = pd.to_datetime(series)
    if dates.dt.tz is not None:
        dates = dates.dt.tz_localize(None)
    days = dates.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    serials = (days - _EXCEL_EPOCH).astype(np.int64)
    serials = np.where(serials < _EXCEL_LEAP_BUG_SERIAL, serials - 1, serials)
    missing = np.isnat(days)
    excel_date = ~missing & (serials >= 1)
    serial_cells = _join(opening, numbers, f'" s="{_STYLE_DATE}"><v>',
                         pa.array(serials, mask=~excel_date).cast(pa.large_string()), "</v></c>")
    if excel_date.sum() == (~missing).sum():
        return serial_cells
    early = pa.array(np.datetime_as_string(days, unit="D"), type=pa.large_string(), mask=excel_date | missing)
    return pc.coalesce(serial_cells, _text_cells(early, opening, numbers))


def _arrow_text(series: pd.Series) -> pa.Array:
    text = pa.array(series.astype("str"), type=pa.large_string(), from_pandas=True)
    return text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text


def _text_cells(text: pa.Array, opening: str, numbers: pa.Array) -> pa.Array:
    """Inline-string cells, each distinct text made safe once."""
    safe = _per_distinct(text, _xlsx_text)
    return _join(opening, numbers, '" t="inlineStr"><is><t xml:space="preserve">', safe, "</t></is></c>")


def _xlsx_text(text: pa.Array) -> pa.Array:
    """Forbidden characters dropped, formulas neutralised, Excel's length kept, XML escaped."""
    text = pc.replace_substring_regex(text, _XML_FORBIDDEN, "")
    text = neutralise_strings(text)
    text = pc.utf8_slice_codeunits(text, start=0, stop=_XLSX_MAX_TEXT)
    for raw, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;")):
        text = pc.replace_substring(text, raw, escaped)
    return text


def _factorised_text(series: pd.Series, encode) -> np.ndarray:
    """``encode`` applied once per distinct value (texts repeat a lot), 'null' for a missing value."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    encoded = np.array([*map(encode, uniques.tolist()), "null"], dtype=object)
    return encoded[codes]  # code -1 (missing) takes the trailing 'null'


def _json_column(series: pd.Series, field: Field) -> pa.Array:
    """One column as JSON value texts, exactly as ``json.dumps`` writes each value."""
    if field.type not in ("date", "number", "integer", "boolean") and isinstance(series.dtype, pd.StringDtype):
        return _json_strings(_arrow_text(series))
    if field.type == "number":
        return _json_numbers(series.astype("float64").to_numpy())
    return pa.array(_json_texts(series, field), type=pa.large_string())


def _json_strings(texts: pa.Array) -> pa.Array:
    """Texts as JSON strings, each distinct one once, 'null' for a missing one."""
    return _per_distinct(texts, _json_quoted).fill_null("null")


def _json_quoted(texts: pa.Array) -> pa.Array:
    """Texts (none missing) as JSON strings: quoted by Arrow, or by ``json`` when one has something to
    escape (a quote, a backslash, a control character)."""
    escaped = pc.match_substring_regex(texts, _JSON_ESCAPED).to_numpy(zero_copy_only=False)
    encoded = _join('"', texts, '"')
    if escaped.any():
        encoded = _replaced(encoded, escaped, [_encode_json_text(t) for t in texts.filter(pa.array(escaped)).to_pylist()])
    return encoded


def _json_numbers(values: np.ndarray) -> pa.Array:
    """Floats as ``json.dumps`` writes them (``float.__repr__``), 'null' for NaN. Where both write a
    positional form (from 1e-4 up to 1e16, no exponent from Arrow) Arrow writes the same shortest
    digits but drops a trailing '.0'; the other values, rare in amounts, go through ``repr``."""
    if np.isinf(values).any():
        raise ValueError("Out of range float values are not JSON compliant")
    missing = np.isnan(values)
    texts, exponent = _float_texts(values)
    whole = pc.invert(pc.match_substring(texts, "."))
    texts = pc.if_else(whole, _join(texts, ".0"), texts)
    magnitude = np.abs(values)
    outside = exponent | (~missing & (magnitude != 0) & ((magnitude < 1e-4) | (magnitude >= 1e16)))
    if outside.any():
        texts = _replaced(texts, outside, list(map(float.__repr__, values[outside].tolist())))
    return texts.fill_null("null")


# What ``json`` escapes in a str when ensure_ascii=False: quote, backslash and control characters.
_JSON_ESCAPED = '[\\x00-\\x1f"\\\\]'


def _json_texts(series: pd.Series, field: Field) -> np.ndarray:
    missing = series.isna().to_numpy()
    if field.type == "date":
        return _factorised_text(pd.to_datetime(series).dt.strftime("%Y-%m-%d"), _encode_json_text)
    if field.type == "integer":
        texts = np.array([None if m else str(int(v)) for v, m in zip(series.tolist(), missing)], dtype=object)
    elif field.type == "boolean":
        return _factorised_text(series.map(bool, na_action="ignore"), lambda v: "true" if v else "false")
    else:
        return _factorised_text(series, lambda v: _encode_json_text(str(v)))
    texts[missing] = "null"
    return texts


_encode_json_text = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) uses for a str


def write_json(frame: pd.DataFrame, fields: Sequence[Field], path: Path) -> None:
    """A JSON list of records, one per line, keys in schema order (as ``json.dumps`` writes each record).

    Values are encoded column-wise (each distinct text once) and a chunk's records are joined with Arrow."""
    with open(path, "wb") as handle:
        handle.write(b"[")
        separator = b"\n"
        for chunk in _chunks(frame):
            handle.write(separator)
            handle.write(_json_records(chunk, fields)[:-len(_JSON_RECORD_END)])
            separator = _JSON_RECORD_END
        handle.write(b"\n]\n")


_JSON_RECORD_END = b",\n"


def _json_records(chunk: pd.DataFrame, fields: Sequence[Field]) -> memoryview:
    """The chunk's records as UTF-8, each followed by ``_JSON_RECORD_END``."""
    parts: list[str | pa.Array] = []
    for number, f in enumerate(fields):
        parts.append(("{" if number == 0 else ", ") + json.dumps(f.name, ensure_ascii=False) + ": ")
        parts.append(_json_column(chunk[f.name], f))
    return _concatenated(_join(*parts, "}" + _JSON_RECORD_END.decode()))


_ARROW_TYPES = {
    "string": pa.string(), "yearmonth": pa.string(), "number": pa.float64(),
    "integer": pa.int64(), "date": pa.date32(), "boolean": pa.bool_(),
}


def _arrow_column(series: pd.Series, field: Field, iso_dates: bool) -> pa.Array:
    if field.type == "date":
        dates = pd.to_datetime(series)
        if iso_dates:
            return pa.array(dates.dt.strftime("%Y-%m-%d"), type=pa.string(), from_pandas=True)
        return pa.array(dates, from_pandas=True).cast(pa.date32())
    if field.type in ("string", "yearmonth"):
        return pa.array(series.astype(object), type=pa.string(), from_pandas=True)
    return pa.array(series, type=_ARROW_TYPES[field.type], from_pandas=True)


def write_parquet(frame: pd.DataFrame, fields: Sequence[Field], path: Path, *, iso_dates: bool = False) -> None:
    """Typed Parquet; with ``iso_dates`` date columns are ISO text (what a DataStore loader sends as is)."""
    arrays = [_arrow_column(frame[f.name], f, iso_dates) for f in fields]
    table = pa.Table.from_arrays(arrays, names=[f.name for f in fields])
    pq.write_table(table, path, compression="zstd", write_statistics=True)


# --------------------------------------------------------------------------- the writers by format

# A table writer: (frame, fields, path, sheet title, document date); only XLSX uses the last two.
TableWriter = Callable[[pd.DataFrame, Sequence[Field], Path, str, dt.datetime], None]
WRITERS: Registry[TableWriter] = Registry("formato", "formatos")
WRITERS.add(OutputFormat.CSV, lambda frame, fields, path, sheet, date: write_csv(frame, fields, path))
WRITERS.add(OutputFormat.XLSX, lambda frame, fields, path, sheet, date: write_xlsx(
    frame, fields, path, sheet_title=sheet, document_date=date))
WRITERS.add(OutputFormat.JSON, lambda frame, fields, path, sheet, date: write_json(frame, fields, path))
WRITERS.add(OutputFormat.PARQUET, lambda frame, fields, path, sheet, date: write_parquet(frame, fields, path))
