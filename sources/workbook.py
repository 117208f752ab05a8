"""Opening a spreadsheet file safely: recognise what it really is, and bound what reading it costs.

Files arrive with the wrong extension (an .xlsx saved as .xls, a CSV or an HTML table called
.xls), password-protected, corrupt, or with a stray cell at XFD1048576. python-calamine sizes
its cell grid from the cells' extent, so such a cell makes it allocate hundreds of GiB and the
process dies with no exception. Hence:

* the format is taken from the content (zip / OLE / text magic), never from the extension;
* an .xlsx/.xlsm is inspected before calamine touches it: uncompressed sizes, compression
  ratio, and the extent of its cells. Excel, LibreOffice, openpyxl and xlsxwriter write that
  extent in the sheet's ``<dimension ref>`` (a stray cell at XFD1048576 makes it
  ``A1:XFD1048576``), so it is read from the first bytes of the sheet XML; the whole XML is
  scanned only when the dimension is missing (openpyxl's write-only mode omits it), malformed,
  or implausible for the XML's size (a placeholder ``A1`` over a big sheet), and for small
  sheets, where scanning costs nothing;
* formats that cannot be inspected cheaply (.xls, .ods) are read in a child process under a
  memory limit, and a killed child becomes an ``InputError``.
"""

from __future__ import annotations

import multiprocessing
import re
import resource
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import python_calamine

from transparencia.errors import InputError

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
ENCRYPTED_OLE_MARKER = "EncryptionInfo".encode("utf-16-le")
PDF_MAGIC = b"%PDF-"
IMAGE_MAGICS = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")
MAX_CELLS = 30_000_000  # about 1 GiB of calamine grid; a 500k x 12 planilla is 6M
MAX_SHEET_XML = 3 * 1024**3
MAX_RATIO = 150  # real sheet XML compresses 5-20x; zip bombs 1000x
CHILD_MEMORY = 2 * 1024**3
SCAN_BELOW = 4 * 1024**2  # sheet XML this small is scanned whatever its dimension says
BYTES_PER_CELL = 256  # real sheets average 30-60 bytes of XML per cell of their extent
SHEET_HEAD = 64 * 1024  # <dimension> comes before <sheetData>, after at most sheetPr
_SHEET_PART = re.compile(r"^xl/(worksheets/[^/]+\.xml|sharedStrings\.xml)$")
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="(?:[A-Z]{1,3}\d+:)?([A-Z]{1,3})(\d+)"')
_ROW_REF = re.compile(rb'row\s[^>]*?r="(\d+)"')  # <row> or <x:row>; a literal start keeps the scan fast
_WIDE_CELL_REF = re.compile(rb'r="([A-Z]{2,3})\d')
_MERGE_REF = re.compile(r"^([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?$")
_RELATIONSHIP_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
# A cell holding an Excel error (#DIV/0!, #N/A…): calamine reads it as empty. Its type attribute is
# the marker searched for; its value (the error, in Excel's English spelling) follows in <v>.
ERROR_MARKER = b't="e"'
_ERROR_CELL = re.compile(rb'<(?:\w+:)?c\s[^>]*?\bt="e"[^>]*>')
_CELL_REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_CELL_VALUE = re.compile(rb'<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>')
ERROR_SCAN_CHUNK = 8 * 1024 * 1024
_ODS_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"


@dataclass
class Sheet:
    """A sheet's cells as Python values, and where they sit in the sheet."""

    name: str
    rows: list[list]
    first_row: int  # 1-based sheet row of rows[0]
    first_col: int  # 0-based column of rows[*][0]
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)  # 0-based, absolute


def sniff(path: Path) -> str:
    """What the file really is: 'xlsx', 'ods', 'xls', 'encrypted', 'html', 'xml2003', 'pdf', 'image', 'word',
    'text', 'empty', 'zip'."""
    with open(path, "rb") as handle:
        head = handle.read(8192)
    if not head:
        return "empty"
    if PDF_MAGIC in head[:1024]:  # the PDF header may follow a little junk
        return "pdf"
    if head.startswith(IMAGE_MAGICS):
        return "image"
    if head.startswith(ZIP_MAGIC):
        return _zip_kind(path)
    if head.startswith(OLE_MAGIC):
        return "encrypted" if ENCRYPTED_OLE_MARKER in path.read_bytes() else "xls"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html", b"<table", b"<meta", b"<head")) or b"<table" in text[:2000]:
        return "html"
    if text.startswith(b"<?xml") and b"urn:schemas-microsoft-com:office:spreadsheet" in head:
        return "xml2003"
    return "text"


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" in names or any(n.endswith("workbook.xml") for n in names):
                return "xlsx"
            if "mimetype" in names and b"opendocument.spreadsheet" in archive.read("mimetype"):
                return "ods"
            if "word/document.xml" in names or ("mimetype" in names and b"opendocument.text" in archive.read("mimetype")):
                return "word"
    except (zipfile.BadZipFile, OSError, EOFError):
        raise InputError(f"El archivo '{path}' está dañado: no se puede abrir como libro de Excel.") from None
    return "zip"


def check_xlsx_extent(path: Path) -> None:
    """Refuse an .xlsx whose sheets would need more memory than a planilla ever does."""
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not _SHEET_PART.match(info.filename):
                    continue
                if info.file_size > MAX_SHEET_XML or (
                    info.file_size > 50 * 1024**2 and info.file_size > MAX_RATIO * max(info.compress_size, 1)
                ):
                    raise InputError(
                        f"El archivo '{path}' es sospechosamente grande al descomprimirlo "
                        f"({info.file_size // 1024**2} MiB en '{info.filename}'); no se lee."
                    )
                if info.filename.startswith("xl/worksheets/"):
                    rows, cols = _declared_extent(archive, info) or _scan_extent(archive, info)
                    if rows * cols > MAX_CELLS:
                        raise InputError(
                            f"El archivo '{path}' tiene celdas hasta la fila {rows} y la columna {column_letters(cols)} "
                            f"({info.filename}); un área tan grande no se puede leer. Borre las celdas sobrantes "
                            "fuera de la tabla (Ctrl+Fin muestra la última) y vuelva a guardar."
                        )
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error):
        raise InputError(f"El archivo '{path}' está dañado: no se puede abrir como libro de Excel.") from None


def _declared_extent(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, int] | None:
    """The sheet's own ``<dimension>`` (last row, last column), when it can be trusted.

    None means "scan instead": the sheet is small, or has no dimension, or declares an area too
    small for the amount of XML it holds. A dimension claiming a huge area is returned as is:
    that is exactly the file to refuse.
    """
    if info.file_size < SCAN_BELOW:
        return None
    with archive.open(info) as stream:
        head = stream.read(SHEET_HEAD)
    found = _DIMENSION.search(head.split(b"<sheetData", 1)[0])
    if found is None:
        return None
    rows, cols = int(found[2]), _column_number(found[1].decode())
    if rows * cols * BYTES_PER_CELL < info.file_size:
        return None
    return rows, cols


def _scan_extent(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[int, int]:
    """The highest row number and column (1-based) that any cell of the sheet XML uses."""
    max_row, max_col = 0, 26
    tail = b""
    with archive.open(info) as stream:
        while chunk := stream.read(8 * 1024 * 1024):
            data = tail + chunk
            rows = _ROW_REF.findall(data)
            if rows:
                max_row = max(max_row, max(map(int, rows)))
            for letters in set(_WIDE_CELL_REF.findall(data)):
                max_col = max(max_col, _column_number(letters.decode()))
            tail = data[-256:]
    return max_row, max_col


def error_cells(path: Path, sheet: str) -> dict[tuple[int, int], str]:
    """The cells of an .xlsx sheet that hold an Excel error, (row, column) 1-based -> the error as
    Excel stores it ('#DIV/0!', '#N/A'); calamine reads them as empty, so without this they vanish.

    One streamed pass over the sheet's XML looks for the error type's marker, which only error cells
    carry (text is escaped, so no value can contain it); only the windows holding it are parsed. A
    sheet without errors costs that pass and nothing more."""
    found: dict[tuple[int, int], str] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            part = _xlsx_sheet_part(archive, sheet)
            if part is None or part not in archive.namelist():
                return found
            with archive.open(part) as stream:
                tail = b""
                while chunk := stream.read(ERROR_SCAN_CHUNK):
                    data = tail + chunk
                    if ERROR_MARKER in data:
                        found.update(_errors_in(data))
                    tail = data[-1024:]  # a cell cut by the chunk's end is whole in the next window
    except (zipfile.BadZipFile, ElementTree.ParseError, KeyError, OSError, zlib.error):
        return found
    return found


def _errors_in(data: bytes) -> dict[tuple[int, int], str]:
    errors = {}
    for cell in _ERROR_CELL.finditer(data):
        ref = _CELL_REF.search(cell[0])
        value = _CELL_VALUE.match(data, cell.end()) or _CELL_VALUE.search(data, cell.end(), cell.end() + 512)
        if ref is not None and value is not None:
            errors[(int(ref[2]), _column_number(ref[1].decode()))] = value[1].decode("utf-8", "replace")
    return errors


def _column_number(letters: str) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - 64
    return number


def column_letters(number: int) -> str:
    """Excel's letters for a 1-based column number (28 -> 'AB')."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _open(path: Path) -> python_calamine.CalamineWorkbook:
    try:
        with open(path, "rb") as handle:
            return python_calamine.CalamineWorkbook.from_filelike(handle)
    except python_calamine.PasswordError:
        raise InputError(f"El libro '{path}' está protegido con contraseña: guárdelo sin contraseña y vuelva a intentarlo.") from None
    except Exception as exc:  # calamine's errors (zip, xml, cfb) all mean the same to the officer
        raise InputError(f"El archivo '{path}' está dañado o no es un libro de Excel válido ({exc}).") from None


def _read_sheets(path: Path, names: list[str] | None) -> tuple[list[str], list[Sheet]]:
    workbook = _open(path)
    all_names = list(workbook.sheet_names)
    wanted = all_names if names is None else names
    sheets = []
    for name in wanted:
        try:
            raw = workbook.get_sheet_by_name(name)
            rows = raw.to_python(skip_empty_area=True)
            merged = raw.merged_cell_ranges
            if merged is None:  # calamine gives none for OpenDocument sheets
                merged = merged_from_xml(path, name)
            start = raw.start or (0, 0)
        except Exception as exc:
            raise InputError(f"No se puede leer la hoja '{name}' de '{path}': {exc}") from None
        sheets.append(Sheet(name, rows, start[0] + 1, start[1], list(merged)))
    return all_names, sheets


def merged_from_xml(path: Path, sheet: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """The sheet's merged ranges read from the file's XML, as calamine gives them ((first row,
    first column), (last row, last column), 0-based), for when calamine does not (it gives none
    for OpenDocument sheets)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "content.xml" in names:
                return _ods_merged(archive, sheet)
            part = _xlsx_sheet_part(archive, sheet)
            return [] if part is None or part not in names else _xlsx_merged(archive, part)
    except (zipfile.BadZipFile, ElementTree.ParseError, KeyError, OSError):
        return []


def _xlsx_sheet_part(archive: zipfile.ZipFile, sheet: str) -> str | None:
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    target = next((s.get(_RELATIONSHIP_ID) for s in workbook.iter() if s.tag.endswith("}sheet") and s.get("name") == sheet), None)
    relations = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    for relation in relations:
        if relation.get("Id") == target:
            path = relation.get("Target", "")
            return path.lstrip("/") if path.startswith("/") else f"xl/{path}"
    return None


def _xlsx_merged(archive: zipfile.ZipFile, part: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    ranges: list[tuple[tuple[int, int], tuple[int, int]]] = []
    for _event, element in ElementTree.iterparse(archive.open(part)):
        if element.tag.endswith("}mergeCell"):
            found = _MERGE_REF.match(element.get("ref", ""))
            if found:
                first = (int(found[2]) - 1, _column_number(found[1]) - 1)
                last = (int(found[4]) - 1, _column_number(found[3]) - 1) if found[3] else first
                ranges.append((first, last))
        elif element.tag.endswith("}row"):
            element.clear()  # cells are not needed: keep memory flat on a big sheet
    return ranges


def _ods_merged(archive: zipfile.ZipFile, sheet: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    t = f"{{{_ODS_TABLE}}}"
    ranges: list[tuple[tuple[int, int], tuple[int, int]]] = []
    row, inside = 0, False
    for event, element in ElementTree.iterparse(archive.open("content.xml"), events=("start", "end")):
        if element.tag == f"{t}table":
            inside = event == "start" and element.get(f"{t}name") == sheet
            if not inside and ranges:
                break
        elif inside and event == "end" and element.tag == f"{t}table-row":
            column = 0
            for cell in element:
                if cell.tag not in (f"{t}table-cell", f"{t}covered-table-cell"):
                    continue
                rows_spanned = int(cell.get(f"{t}number-rows-spanned", "1"))
                columns_spanned = int(cell.get(f"{t}number-columns-spanned", "1"))
                if rows_spanned > 1 or columns_spanned > 1:
                    ranges.append(((row, column), (row + rows_spanned - 1, column + columns_spanned - 1)))
                column += int(cell.get(f"{t}number-columns-repeated", "1"))
            row += int(element.get(f"{t}number-rows-repeated", "1"))
            element.clear()
    return ranges


def sheet_names(path: Path, kind: str) -> list[str]:
    if kind == "xlsx":
        return list(_open(path).sheet_names)
    return _in_child(path, [], names_only=True)[0]


def read_sheets(path: Path, kind: str, names: list[str] | None = None) -> list[Sheet]:
    """The named sheets (all when None), read within the memory bounds described above."""
    if kind == "xlsx":
        check_xlsx_extent(path)
        return _read_sheets(path, names)[1]
    return _in_child(path, names)[1]


def _child(path: Path, names: list[str] | None, names_only: bool, limit: int, conn) -> None:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        if names_only:
            conn.send(("ok", (list(_open(path).sheet_names), [])))
        else:
            conn.send(("ok", _read_sheets(path, names)))
    except InputError as exc:
        conn.send(("error", exc.message))
    except MemoryError:
        conn.send(("memory", ""))
    finally:
        conn.close()


def _address_space() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _in_child(path: Path, names: list[str] | None, names_only: bool = False) -> tuple[list[str], list[Sheet]]:
    """Read in a forked child whose address space is capped, so a hostile file kills only it."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    limit = _address_space() + CHILD_MEMORY
    child = context.Process(target=_child, args=(path, names, names_only, limit, sender), daemon=True)
    child.start()
    sender.close()
    try:
        status, payload = receiver.recv()
    except EOFError:
        status, payload = "memory", ""
    finally:
        child.join()
        receiver.close()
    if status == "error":
        raise InputError(payload)
    if status == "memory":
        raise InputError(
            f"Leer '{path}' excede la memoria permitida: el libro es demasiado grande o tiene celdas "
            "sueltas muy lejos de la tabla. Borre las celdas sobrantes y vuelva a guardar."
        )
    return payload
