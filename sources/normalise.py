"""Turning values as people type them into the schema's types, column by column, with an account.

A directorate's amount may be a number or the text "B/. 1,250.00", "1.250,00" or "(150.00)"; a
date may be an Excel serial, a date cell, "15/01/2025", "2025-01-15" or "15 de enero de 2025"; a
cédula may be "8 123 4567". Each column is converted with whole-column (vectorised) operations,
because a monthly planilla can have hundreds of thousands of rows. Every change that is more
than reading the value as written is counted per column and kind (``Coercion``), and every value
that cannot be converted becomes null and is listed (``CellFailure``) for validation to report.

Dates are day first (dd/mm/yyyy), the Panamanian order: an ambiguous "03/04/2025" is 3 April.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from transparencia.domain import YEARMONTH_PATTERN, Period, cedula
from transparencia.domain.period import MONTH_NUMBERS
from transparencia.schemas.table import Field, TableSchema
from transparencia.sources.extraction import CellFailure, Coercion
from transparencia.sources.headers import INVISIBLE, fold

EXAMPLES = 3
DISTINCT_SAMPLE = 500  # rows that tell a column of all-different values (see ``factorised``)
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
# Excel serials of 1900-01-01 .. 9999-12-31; outside this a number is not a date.
SERIAL_MIN, SERIAL_MAX = 1, 2958465
DATE_FORMATS = (  # tried in order on what is still unparsed; day first, never month first
    ("%d/%m/%Y", "text_date"),
    ("%Y-%m-%d", None),  # ISO: the canonical form, not a coercion
    ("%d-%m-%Y", "text_date"),
    ("%d.%m.%Y", "text_date"),
    ("%Y/%m/%d", "text_date"),
    ("%d/%m/%y", "text_date"),
    ("%d/%m/%Y %H:%M:%S", "text_date"),
    ("%Y-%m-%d %H:%M:%S", "text_date"),
    ("%Y-%m-%dT%H:%M:%S", "text_date"),
    ("%d/%m/%Y %H:%M", "text_date"),
)
_MONTH_WORD = "|".join(sorted(MONTH_NUMBERS, key=len, reverse=True))
_SPANISH_DATE = re.compile(  # day first: '15 de enero del 2025', '19-ene-2019', '10/ENE/25'
    rf"^\s*(?:[a-záéíóú]+,?\s+)?(\d{{1,2}})\s*(?:de\s+|[-/.\s])\s*({_MONTH_WORD})\.?\s*(?:de(?:l)?\s+|[-/.\s])\s*(\d{{4}}|\d{{2}})\s*$",
    re.IGNORECASE,
)
_SPANISH_MONTH_FIRST = re.compile(  # 'ene. 10, 2025', 'enero 10 de 2025': the month named first cannot be misread
    rf"^\s*()({_MONTH_WORD})\.?\s*(\d{{1,2}})\s*(?:,|de(?:l)?\s)?\s*(\d{{4}})\s*$",
    re.IGNORECASE,
)
_DAY_MONTH_YEAR = r"^(\d{1,2})/(\d{1,2})/(\d{4})$"
_NUMERIC_DATE = r"^(?P<first>\d{1,2})[/.\-](?P<second>\d{1,2})[/.\-](?P<year>\d{4}|\d{2})$"
TWO_DIGIT_YEAR_PIVOT = 69  # as strptime's %y: '68' is 2068, '69' is 1969
_SPANISH_MONTH_YEAR = re.compile(rf"^\s*({_MONTH_WORD})\.?\s*(?:de(?:l)?\s+|[-/.\s])\s*(\d{{4}})\s*$", re.IGNORECASE)
# Python's whitespace spelt out as a class: pandas hands a pattern with \s to Python's re, one value
# at a time, while this one runs in pyarrow's RE2 over the whole column.
_WS = "[" + "".join(c for c in map(chr, range(0x3001)) if c.isspace()) + "]"
# Whitespace that is more than one plain space between words: a run, a tab, a NBSP...
_UNTIDY_SPACE = f"{_WS}{_WS}|[" + "".join(c for c in map(chr, range(0x3001)) if c.isspace() and c != " ") + "]"
_PLAIN_NUMBER = r"^-?\d+(?:\.\d+)?$"
_CEDULA_TYPED = cedula.typed_pattern(_WS)
_UNSIGNED_NUMBER = r"^\d+(?:\.\d+)?$"
# Minus signs as pasted from Word or other tools (U+2212 minus, en and em dashes, ...), besides '-'.
_MINUS_LIKE = cedula.DASHES
_COMBINING = "[\u0300-\u036f]"  # accents typed as separate marks (NFD), as some systems export names
_PASTED = f"{INVISIBLE}|{_COMBINING}"
# What people write for "no value": dashes (an accounting zero, "B/. -"), N/A, S/D (sin dato), N/D,
# "no aplica", a database export's NULL... In an optional field it means none; in a required one, an error.
_S = f"{_WS}*"
_EMPTY_MARKER = (f"(?:(?:b{_S}/{_S}\\.?|\\$)?{_S}\\(?{_S}[-{_MINUS_LIKE}_.]+{_S}\\)?|n{_S}/{_S}[ad]|s{_S}/{_S}d|"
                 f"n\\.{_S}a\\.?|s\\.{_S}d\\.?|no{_S}aplica|sin{_S}datos?|no{_S}disponible|ninguno|null)")
# Excel's error values, in English (as files store them) and in Spanish (as a Spanish Excel shows them,
# and as they reach a CSV saved from it): what a broken formula leaves in a cell.
EXCEL_ERRORS = {
    "#div/0!": "una división por cero en la fórmula",
    "#n/a": "la fórmula no encontró el dato que busca (p. ej. un BUSCARV sin resultado)",
    "#value!": "la fórmula usa un texto donde espera un número",
    "#ref!": "la fórmula apunta a una celda que ya no existe",
    "#name?": "la fórmula usa un nombre o una función que Excel no reconoce",
    "#num!": "la fórmula dio un número no válido",
    "#null!": "la fórmula cruza dos rangos que no se tocan",
    "#¡div/0!": "una división por cero en la fórmula",
    "#¡valor!": "la fórmula usa un texto donde espera un número",
    "#valor!": "la fórmula usa un texto donde espera un número",
    "#¡ref!": "la fórmula apunta a una celda que ya no existe",
    "#¿nombre?": "la fórmula usa un nombre o una función que Excel no reconoce",
    "#nombre?": "la fórmula usa un nombre o una función que Excel no reconoce",
    "#¡num!": "la fórmula dio un número no válido",
    "#¡nulo!": "la fórmula cruza dos rangos que no se tocan",
    "#nulo!": "la fórmula cruza dos rangos que no se tocan",
}
_EXCEL_ERROR = "|".join(re.escape(error) for error in EXCEL_ERRORS)
_BLANK_OR_MARKER = f"(?i)^{_S}(?:{_EMPTY_MARKER}|{_EXCEL_ERROR})?{_S}$"
_TRUE = {"si", "s", "x", "true", "verdadero", "1", "yes", "y"}
_FALSE = {"no", "n", "false", "falso", "0"}

EXPECTED = {
    "number": "un número o monto (p. ej. 1250.00)",
    "integer": "un número entero (p. ej. 4)",
    "date": "una fecha (p. ej. 15/01/2025)",
    "yearmonth": "un mes en formato AAAA-MM (p. ej. 2025-01)",
    "boolean": "sí o no",
}


@dataclass
class _Account:
    """Coercions and failures of one column, gathered while its distinct values are converted.

    Converters work on the column's distinct values (a planilla repeats its units, positions
    and states thousands of times); ``counts`` says how many rows hold each distinct value, and
    ``codes`` which distinct value each row holds, so the account is still per row.
    """

    column: str
    counts: np.ndarray
    coercions: list[Coercion] = field(default_factory=list)
    failed_values: dict[tuple[str, str], list[int]] = field(default_factory=dict)  # (rule, expected) -> positions

    def coerced(self, kind: str, before: pd.Series, after: pd.Series) -> None:
        if len(before) == 0:
            return
        pairs: list[tuple[str, str]] = []
        for b, a in zip(before.iloc[:50].tolist(), after.iloc[:50].tolist()):
            pair = (_show(b), _show(a))
            if pair not in pairs:
                pairs.append(pair)
            if len(pairs) == EXAMPLES:
                break
        count = int(self.counts[before.index.to_numpy()].sum())
        self.coercions.append(Coercion(self.column, kind, count, tuple(pairs)))

    def failed(self, values: pd.Series, expected: str, rule: str = "type-error") -> None:
        self.failed_values.setdefault((rule, expected), []).extend(values.index.tolist())

    def failures(self, codes: np.ndarray, uniques: np.ndarray, rows: pd.Index) -> list[CellFailure]:
        found: list[CellFailure] = []
        for (rule, expected), positions in self.failed_values.items():
            hit = np.isin(codes, positions)
            found.extend(
                CellFailure(int(row), self.column, _show(uniques[code]), expected, rule)
                for row, code in zip(rows[hit], codes[hit])
            )
        return found


def _show(value: object) -> str:
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def supply_period(raw: pd.DataFrame, missing: list[str], period: Period | None) -> tuple[list[str], list[Coercion]]:
    """Directorates' files and queries rarely carry a ``periodo`` column: the month being extracted
    supplies it (recorded as a coercion). Returns the still-missing columns and that coercion."""
    supplied = period_supplied(missing, period, len(raw))
    if supplied is None:
        return missing, []
    raw["periodo"] = str(period)
    return supplied


def period_supplied(missing: list[str], period: Period | None, rows: int) -> tuple[list[str], list[Coercion]] | None:
    """What ``supply_period`` reports, for a caller that adds the column itself; None when the
    run's period does not fill ``periodo`` (no period, or the source has that column)."""
    if period is None or "periodo" not in missing:
        return None
    filled = [Coercion("periodo", "period_from_run", rows, (("", str(period)),))] if rows else []
    return [m for m in missing if m != "periodo"], filled


def normalise_table(raw: pd.DataFrame, schema: TableSchema) -> tuple[pd.DataFrame, list[Coercion], list[CellFailure]]:
    """Type every schema field of ``raw`` (values as read, index = source row numbers).

    Returns the frame with all schema fields in schema order (absent ones all null), the
    coercions made and the values that could not be converted.
    """
    columns = {f.name: _series_codes(raw[f.name]) for f in schema.fields if f.name in raw.columns}
    return normalise_factorised(columns, raw.index, schema)


def normalise_factorised(columns: dict[str, tuple[np.ndarray, np.ndarray]], index: pd.Index,
                         schema: TableSchema) -> tuple[pd.DataFrame, list[Coercion], list[CellFailure]]:
    """``normalise_table`` for columns given already factorised, as (codes, distinct values) with
    code -1 for a missing cell, as spreadsheets are read; distinct values no row uses are ignored."""
    fields: dict[str, object] = {}
    coercions: list[Coercion] = []
    failures: list[CellFailure] = []
    for f in schema.fields:
        if f.name in columns:
            codes, uniques = _only_used(*columns[f.name])
        else:
            codes, uniques = np.full(len(index), -1, dtype=np.intp), np.array([], dtype=object)
        account = _Account(f.name, np.bincount(codes[codes >= 0], minlength=len(uniques)))
        converted = CONVERTERS[f.type](_tidy(uniques, f, account), f, account)
        fields[f.name] = converted.array.take(codes, allow_fill=True)
        coercions.extend(account.coercions)
        failures.extend(account.failures(codes, uniques, index))
    failures.sort(key=lambda c: (c.row, schema.field_names.index(c.column)))
    return pd.DataFrame(fields, index=index), coercions, failures


def _series_codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct values) of a frame's column; a categorical one is already factorised."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return factorised(column.to_numpy(dtype=object))
    return column.cat.codes.to_numpy().astype(np.intp), column.cat.categories.to_numpy(dtype=object)


def factorised(column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct values) of a column of cells as read, code -1 for a missing cell.

    A column whose first rows all differ (cédulas, amounts, row numbers) is kept as it is, one
    code per row: everything here works on distinct values and counts rows through the codes, so
    a repeat is only typed twice, which costs less than hashing every value to find the few."""
    head = column[:DISTINCT_SAMPLE]
    if len(column) <= DISTINCT_SAMPLE or len(pd.unique(head)) < len(head):
        return pd.factorize(column, use_na_sentinel=True)
    codes = np.arange(len(column), dtype=np.intp)
    codes[pd.isna(column)] = -1
    return codes, column


def _only_used(codes: np.ndarray, uniques: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values that some row holds, codes renumbered to match."""
    used = np.bincount(codes[codes >= 0], minlength=len(uniques)) > 0
    if used.all():
        return codes, uniques
    renumber = np.append(np.cumsum(used) - 1, -1)
    return renumber[codes], uniques[used]


@dataclass(frozen=True)
class _Kinds:
    """A column's distinct values after ``_tidy``, split once by what each cell holds.

    ``text`` is an Arrow string Series, ``numbers`` and ``other`` (dates, booleans...) keep the cells
    as read; missing cells and empty markers are in none of them. Every part is indexed by the
    distinct value's position, which is how accounts and converters reach the rows.
    """

    index: pd.Index
    text: pd.Series
    numbers: pd.Series
    other: pd.Series

    @classmethod
    def of(cls, index: pd.Index, text: pd.Series | None = None, numbers: pd.Series | None = None,
           other: pd.Series | None = None) -> _Kinds:
        nothing = pd.Series([], index=index[:0], dtype=object)
        return cls(index, pd.Series([], index=index[:0], dtype="str") if text is None else text,
                   nothing if numbers is None else numbers, nothing if other is None else other)

    def present(self) -> pd.Series:
        """Every value kept, as objects, in position order."""
        return pd.concat([self.text.astype(object), self.numbers, self.other]).sort_index()


def _tidy(uniques: np.ndarray, f: Field, account: _Account) -> _Kinds:
    """A column's distinct values as people leave them, made ready for typing, with an account.

    * Missing: None, NaN, NaT, and empty or whitespace-only text.
    * Pasted text: invisible characters removed and accents composed (NFC). A name pasted with a
      zero-width space or a BOM ('Yaritza\u200b'), or exported decomposed ('Jose' + U+0301),
      looks right but differs from the same name typed elsewhere: keys, duplicates and change
      summaries would all miss it. A column whose texts are all ASCII has neither, which one
      Arrow check tells.
    * Empty markers ('—', 'N/A', '-', 's/d', 'no aplica'): in an optional field they mean no value
      (a coercion to empty); in a required field they are an error that names the marker. A
      marker that is one of the field's allowed values (an enumeration) is that value.

    Each cell's type is looked at once, here; the text cells become one Arrow string array,
    searched with regular expressions; only the few values they find are touched in Python.
    """
    index = pd.RangeIndex(len(uniques))
    is_text, is_number, is_other = _cell_kinds(uniques)
    texts = pd.Series(uniques[is_text], index=index[is_text], dtype="str")
    if len(texts) and not pc.all(pc.string_is_ascii(pa.array(texts))).as_py():
        texts = _clean_pasted(texts, account)
    return _Kinds(index, _without_empty(texts, f, account),
                  pd.Series(uniques[is_number], index=index[is_number], dtype=object),
                  pd.Series(uniques[is_other], index=index[is_other], dtype=object))


def _without_empty(texts: pd.Series, f: Field, account: _Account) -> pd.Series:
    """``texts`` without the blank ones, the Excel errors and the empty markers, each accounted for.

    One search tells them all; a column where it finds none, the usual one, is returned as it is
    (the steps below would each run on an empty selection and take nothing out)."""
    is_empty = _search(texts, _BLANK_OR_MARKER)
    return _taken_out(texts, is_empty, f, account) if is_empty.any() else texts


def _taken_out(texts: pd.Series, is_empty: pd.Series, f: Field, account: _Account) -> pd.Series:
    """``_without_empty`` once the search found the texts ``is_empty``."""
    empty = texts[is_empty]
    blank = empty.str.strip() == ""
    errors = _excel_errors(empty[~blank], f, account)
    markers = _markers(empty[~blank].drop(errors.index), f, account)
    return texts.drop(empty.index[blank]).drop(errors.index).drop(markers.index)


def _cell_kinds(cells: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(text, number, other) masks of the cells; a cell in none of them is missing.

    A column of one kind, the usual case, is told by one pass of pandas' type inference; a mixed
    one by each cell's type."""
    kind = pd.api.types.infer_dtype(cells, skipna=False)
    none = np.zeros(len(cells), dtype=bool)
    if kind == "string":
        return ~none, none, none
    if kind in ("floating", "integer", "mixed-integer-float"):
        return none, ~pd.isna(cells), none
    types = _type_ids(cells)
    is_text = types == id(str)
    is_number = np.isin(types, _NUMBER_TYPE_IDS)
    missing = np.isin(types, _MISSING_TYPE_IDS)
    if is_number.any():
        nan = np.zeros(len(cells), dtype=bool)
        nan[is_number] = pd.isna(cells[is_number])
        missing |= nan
        is_number &= ~nan
    is_other = ~(is_text | is_number | missing)
    if is_other.any():  # a str subclass (numpy's) is text too
        subclass = np.flatnonzero(is_other)[[isinstance(v, str) for v in cells[is_other]]]
        is_text[subclass], is_other[subclass] = True, False
    return is_text, is_number, is_other


def _clean_pasted(texts: pd.Series, account: _Account) -> pd.Series:
    """``texts`` without invisible characters and composed (NFC), each change counted."""
    pasted = texts[_search(texts, _PASTED)]
    if pasted.empty:
        return texts
    visible = _replaced(pasted, INVISIBLE, "")
    changed = visible != pasted
    if changed.any():
        account.coerced("invisible_characters", pasted[changed], visible[changed])
    composed = visible.str.normalize("NFC")
    changed = composed != visible
    if changed.any():
        account.coerced("unicode_composed", visible[changed], composed[changed])
    cleaned = texts.copy()
    cleaned[composed.index] = composed
    return cleaned


def _excel_errors(texts: pd.Series, f: Field, account: _Account) -> pd.Series:
    """The Excel errors among ``texts`` (a few values at most), each a failure that says what the
    error means and what to write instead: never a value, and never an empty cell either."""
    errors = texts[[_fold_error(v) in EXCEL_ERRORS for v in texts]]
    for error, same in errors.groupby(errors.map(_fold_error)):
        account.failed(same, f"{EXCEL_ERRORS[error]}, no un valor de '{f.title}'. {_write_instead(f)}",
                       rule="excel-error")
    return errors


def _fold_error(text: str) -> str:
    """An Excel error as ``EXCEL_ERRORS`` keys it: lower case, without the spaces around it."""
    return text.strip().lower()


def _write_instead(f: Field) -> str:
    """What to write in place of an error: the field's kind of value, or an empty cell if it is optional."""
    what = {"number": "el monto (p. ej. 1250.00)", "integer": "el número", "date": "la fecha (dd/mm/aaaa)"}.get(
        f.type, "el dato")
    return f"Escriba {what}" + ("" if f.required else ", o deje la celda vacía si no hay")


def _markers(markers: pd.Series, f: Field, account: _Account) -> pd.Series:
    """The empty markers that stand for no value in ``f`` (not an allowed value), accounted for."""
    if f.enum and len(markers):
        allowed = {fold(v) for v in f.enum}
        markers = markers[[fold(v) not in allowed for v in markers]]
    if markers.empty:
        return markers
    if f.required:
        account.failed(markers, "un valor (la columna es obligatoria)", rule="empty-marker")
    else:
        account.coerced("empty_marker", markers, pd.Series("(vacío)", index=markers.index))
    return markers


def _search(texts: pd.Series, pattern: str) -> pd.Series:
    """Whether ``pattern`` is found in each text, searched by Arrow's RE2 directly.

    pandas parses a pattern with Python's ``re`` on every call to decide whether RE2 may run it;
    the patterns here are written for RE2 (whitespace spelt out as ``_WS``, ``\\d`` meaning the
    ASCII digits), and on a column of a few distinct values that parse costs more than the search."""
    found = pc.match_substring_regex(pa.array(texts, type=pa.string()), pattern).fill_null(False)
    return pd.Series(np.asarray(found, dtype=bool), index=texts.index)


def _replaced(texts: pd.Series, pattern: str, replacement: str) -> pd.Series:
    """``texts`` with every match of ``pattern`` replaced, by Arrow's RE2 directly (see ``_search``)."""
    replaced = pc.replace_substring_regex(pa.array(texts, type=pa.string()), pattern, replacement)
    return pd.Series(replaced, index=texts.index, dtype="str")


def _numerals(texts: pd.Series, numeral: pd.Series) -> pd.Series:
    """The texts marked ``numeral`` (checked to be plain numerals: digits, a point, a leading minus)
    as floats, NaN elsewhere. Arrow's cast rounds as Python's ``float()`` does, seven times faster
    than ``pd.to_numeric``. A numeral too long for a float (it would read as infinity) is not read,
    so it is reported rather than published."""
    read = pc.cast(pa.array(texts.where(numeral), type=pa.string()), pa.float64()).to_numpy(zero_copy_only=False)
    return pd.Series(np.where(np.isfinite(read), read, np.nan), index=texts.index, dtype=float)


def _type_ids(cells: np.ndarray) -> np.ndarray:
    """Each cell's ``id(type(cell))``: numbers that numpy compares without a Python loop."""
    return np.fromiter(map(id, map(type, cells)), dtype=np.intp, count=len(cells))


# Not bool: True is not the number 1 here.
_NUMBER_TYPE_IDS = [id(t) for t in (int, float, np.float64, np.int64, np.float32, np.int32)]
_MISSING_TYPE_IDS = [id(type(None)), id(type(pd.NaT)), id(type(pd.NA))]
_DATE_TYPE_IDS = [id(t) for t in (dt.datetime, dt.date, pd.Timestamp, np.datetime64)]


# ---- strings -------------------------------------------------------------------------------

def to_string(kinds: _Kinds, f: Field, account: _Account) -> pd.Series:
    text, numbers, other = kinds.text, kinds.numbers, kinds.other
    out = pd.Series(None, index=kinds.index, dtype=object)
    stripped = text
    if len(text):
        stripped = text.str.strip()
        untidy = _search(stripped, _UNTIDY_SPACE)
        if untidy.any():
            stripped = stripped.copy()
            stripped[untidy] = _replaced(stripped[untidy], f"{_WS}+", " ")
        changed = stripped != text
        if changed.any():
            account.coerced("whitespace", text[changed], stripped[changed])
        if len(text) < len(kinds.index):
            out[text.index] = stripped
    if len(numbers):  # an ID typed as a number: 801.0 -> "801", never "801.0"
        as_text = numbers.map(_number_text)
        account.coerced("number_as_text", numbers, as_text)
        out[numbers.index] = as_text
    if len(other):
        as_text = other.map(_show)
        account.coerced("value_as_text", other, as_text)
        out[other.index] = as_text
    out = stripped if len(text) == len(kinds.index) else out.astype("str")  # all text: already in place
    if f.format == "cedula":
        out = _normalise_cedula(out, account)
    if f.enum:
        out = _match_enum(out, f.enum, account)
    return out


def _number_text(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _normalise_cedula(values: pd.Series, account: _Account) -> pd.Series:
    """'8 123 4567', '8.123.4567', '08-0123-04567', 'e-8-88' to the canonical '8-123-4567' form.

    The grammar and its leading-zeros rule are ``domain.cedula``'s, applied here over the whole
    column. Only values made of a known prefix and two digit groups with separators are
    rewritten: '81234567' is ambiguous and is left for validation to flag.
    """
    present = values.dropna()
    if present.empty:
        return values
    upper = present.str.upper().str.strip()
    canonical = _search(upper, cedula.CANONICAL_PATTERN)
    todo = upper[~canonical]
    found = pc.extract_regex(_one_array(todo), _CEDULA_TYPED)
    ok = found.is_valid().to_numpy(zero_copy_only=False)
    prefix, tomo, asiento = (pd.Series(found.field(part).filter(ok), index=todo.index[ok], dtype="str").str.lstrip("0")
                             for part in ("prefix", "tomo", "asiento"))
    rebuilt = prefix + "-" + tomo + "-" + asiento
    rebuilt = rebuilt[~_search(rebuilt, r"-(?:-|$)")]  # a group of only zeros is not a cédula
    replaced = pd.Series(False, index=upper.index)
    replaced[rebuilt.index] = True
    result = upper.mask(replaced, rebuilt.reindex(upper.index)) if len(rebuilt) else upper
    changed = result != present
    if changed.any():
        account.coerced("cedula_normalised", present[changed], result[changed])
    if len(present) == len(values):
        return result
    out = values.copy()
    out[result.index] = result
    return out


def _one_array(texts: pd.Series) -> pa.Array:
    """The texts as one Arrow array: a Series may hold several chunks, and a struct result's
    fields are only read from an array."""
    arrow = pa.array(texts, type=pa.string())
    return arrow.combine_chunks() if isinstance(arrow, pa.ChunkedArray) else arrow


def _match_enum(values: pd.Series, allowed: tuple[str, ...], account: _Account) -> pd.Series:
    """'permanente ', 'Permanente', 'PERMANENTE' all become the canonical 'PERMANENTE'."""
    canonical = {fold(v): v for v in allowed}
    uniques = values.dropna().unique()
    mapping = {u: canonical.get(fold(u), u) for u in uniques}
    changes = {u: c for u, c in mapping.items() if u != c}
    if not changes:
        return values
    changed = values.isin(list(changes))
    before = values[changed]
    after = before.map(changes)
    account.coerced("enum_case", before, after)
    out = values.copy()
    out[changed] = after
    return out


# ---- numbers -------------------------------------------------------------------------------

@dataclass
class _Amounts:
    """Amount texts read as numbers, and how each was written."""

    numbers: pd.Series  # float; NaN where the text is not an amount
    reformatted: pd.Series  # needed more than reading a plain numeral
    negative_notation: pd.Series  # negative by parentheses, a trailing minus or a typographic minus
    several_signs: pd.Series  # '(-200)', '-200-': which sign was meant cannot be told
    ambiguous: pd.Series  # '1.250' in a column that writes decimals both ways: 1250 or 1.25


def _parse_amounts(text: pd.Series) -> _Amounts:
    """Amount texts to floats, never losing a sign.

    "B/. 1,250.00", "$1,250", "1.250,00", "1 250,5"; negatives as "-200", "B/. -200", "-B/. 200",
    "200-", "(150.00)" or with a typographic minus ("−200", "–200"). With one separator kind: a
    comma followed by exactly three digits groups thousands ("1,250"), otherwise it is the
    decimal comma ("12,5"); a single dot is the decimal point, several dots group thousands
    ("1.250.000"). A value written with two signs is not read.

    A lone group of three digits after one separator ("1.250", "1,250") is read by the column's
    convention: where the other values write decimals with a comma ("12,50", "1.250,00"), "1.250"
    is 1250 and "1,250" is 1.25 (recorded as a coercion); where they write them both ways, it is
    not read, since 1250 and 1.25 differ a thousand times.
    """
    t = text.str.strip()
    plain = _search(t, _PLAIN_NUMBER)
    typographic = _search(t, f"[{_MINUS_LIKE}]")
    core = _replaced(t, f"[{_MINUS_LIKE}]", "-")
    core = _replaced(core, f"(?i)b{_WS}*/{_WS}*\\.?|us{_WS}*\\$|\\$|usd|pab|balboas?|d[oó]lar(?:es)?|['+]|{_WS}", "")
    outer = core.str.startswith("-")  # "-(200)"
    core = core.mask(outer, core.str.slice(1))
    parenthesised = _search(core, r"^\(.*\)$")
    core = core.mask(parenthesised, core.str.slice(1, -1))
    leading = core.str.startswith("-")
    core = core.mask(leading, core.str.slice(1))
    trailing = core.str.endswith("-")
    core = core.mask(trailing, core.str.slice(0, -1))
    signs = outer.astype(int) + parenthesised.astype(int) + leading.astype(int) + trailing.astype(int)
    has_comma, has_dot = core.str.contains(",", regex=False), core.str.contains(".", regex=False)
    comma_thousands = ~has_dot & _search(core, r"^\d{1,3}(?:,\d{3})+$")
    dot_thousands = ~has_comma & _search(core, r"^\d{1,3}(?:\.\d{3}){2,}$")
    decimal_comma = _search(core, r",[^.]*$") & ~comma_thousands  # the last separator is a comma
    one_group = _search(core, r"^\d{1,3}[.,]\d{3}$")
    comma_seen = bool((decimal_comma & ~one_group).any())
    point_seen = bool((has_dot & ~decimal_comma & ~dot_thousands & ~one_group).any())
    by_comma_column = one_group & comma_seen & ~point_seen
    decimal_comma |= by_comma_column & has_comma
    dot_thousands |= by_comma_column & has_dot
    core = core.mask(decimal_comma, core.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    core = core.mask(~decimal_comma, core.str.replace(",", "", regex=False))
    core = core.mask(dot_thousands, core.str.replace(".", "", regex=False))
    numbers = _numerals(core, _search(core, _UNSIGNED_NUMBER))
    several = (signs > 1) & numbers.notna()
    ambiguous = one_group & comma_seen & point_seen & numbers.notna()
    numbers = numbers.mask(several | ambiguous).mask(signs == 1, -numbers)
    notation = (signs == 1) & (parenthesised | trailing | typographic) & numbers.notna()
    return _Amounts(numbers, ~plain | by_comma_column, notation, several, ambiguous)


def to_number(kinds: _Kinds, f: Field, account: _Account, expected: str | None = None) -> pd.Series:
    text, numbers, other = kinds.text, kinds.numbers, kinds.other
    out = pd.Series(np.nan, index=kinds.index, dtype=float)
    if len(numbers):
        out[numbers.index] = numbers.astype(float)
    if len(text):
        amounts = _parse_amounts(text)
        parsed = amounts.numbers
        good = parsed.notna()
        shown = good & amounts.reformatted
        if shown.any():
            account.coerced("amount_text", text[shown], parsed[shown])
        if amounts.negative_notation.any():
            account.coerced("negative_notation", text[amounts.negative_notation], parsed[amounts.negative_notation])
        out[parsed.index[good]] = parsed[good]
        if amounts.several_signs.any():
            account.failed(text[amounts.several_signs], "un monto con un solo signo (se escribió más de un signo negativo)")
        if amounts.ambiguous.any():
            account.failed(text[amounts.ambiguous], "un monto sin ambigüedad: la columna escribe los decimales con coma "
                           "y con punto, y este valor puede leerse como miles o como decimales")
        unread = ~good & ~amounts.several_signs & ~amounts.ambiguous
        if unread.any():
            account.failed(text[unread], expected or EXPECTED["number"])
    if len(other):
        account.failed(other, expected or EXPECTED["number"])
    return out


def to_integer(kinds: _Kinds, f: Field, account: _Account) -> pd.Series:
    numbers = to_number(kinds, f, account, EXPECTED["integer"])
    fractional = numbers.notna() & (numbers != numbers.round())
    if fractional.any():
        account.failed(numbers[fractional], EXPECTED["integer"])
        numbers = numbers.mask(fractional)
    return numbers.round().astype("Int64")


def to_boolean(kinds: _Kinds, f: Field, account: _Account) -> pd.Series:
    present = kinds.present()
    mapping: dict[object, bool | None] = {}
    for u in present.unique():
        if isinstance(u, bool):
            mapping[u] = u
        else:
            key = fold(_show(u))
            mapping[u] = True if key in _TRUE else False if key in _FALSE else None
    converted = present.map(mapping)
    bad = converted.isna()
    if bad.any():
        account.failed(present[bad], EXPECTED["boolean"])
    out = pd.Series(pd.NA, index=kinds.index, dtype="boolean")
    out[converted.index[~bad]] = converted[~bad].astype(bool)
    return out


# ---- dates ---------------------------------------------------------------------------------

def _serials_to_dates(numbers: pd.Series) -> pd.Series:
    """Excel serial day numbers (45672 = 2025-01-15) and yyyymmdd numbers to dates."""
    numbers = numbers.astype(float)
    out = pd.Series(pd.NaT, index=numbers.index, dtype="datetime64[us]")
    yyyymmdd = (numbers >= 19000101) & (numbers <= 21001231) & (numbers == numbers.round())
    if yyyymmdd.any():
        out[yyyymmdd] = pd.to_datetime(numbers[yyyymmdd].astype("int64").astype(str), format="%Y%m%d", errors="coerce")
    serial = ~yyyymmdd & (numbers >= SERIAL_MIN) & (numbers <= SERIAL_MAX)
    if serial.any():
        days = np.floor(numbers[serial].to_numpy())
        out[serial] = EXCEL_EPOCH + pd.to_timedelta(days, unit="D")
    return out


def _parse_date_texts(text: pd.Series, account: _Account) -> tuple[pd.Series, pd.Index]:
    """Date texts to dates, trying each known format on what is still unparsed.

    Returns the dates (NaT where unread) and the texts refused as ambiguous, already reported."""
    t = text.str.strip()
    out = pd.Series(pd.NaT, index=t.index, dtype="datetime64[us]")
    month_first, ambiguous = _month_first(t)
    if month_first.any():
        iso = _replaced(t[month_first], _NUMERIC_DATE, r"\3-\1-\2")
        read = pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce")
        read_rows = read.index[read.notna()]
        account.coerced("month_first_date", t[read_rows], read[read_rows])
        out[read_rows] = read[read_rows]
    if ambiguous.any():
        account.failed(text[ambiguous], "una fecha sin ambigüedad: la columna tiene fechas con el día primero y "
                       "otras con el mes primero, y en esta cualquiera de los dos números puede ser el mes")
    remaining = t[~month_first & ~ambiguous]
    for fmt, kind in DATE_FORMATS:
        if remaining.empty:
            break
        parsed = _dates_in_format(remaining, fmt)
        good = parsed.notna()
        if good.any():
            if kind:
                account.coerced(kind, remaining[good], parsed[good])
            out[parsed.index[good]] = parsed[good]
            remaining = remaining[~good]
    if not remaining.empty:
        spanish = _spanish_dates(remaining)
        good = spanish.notna()
        if good.any():
            account.coerced("spanish_text_date", remaining[good], spanish[good])
            out[spanish.index[good]] = spanish[good]
            remaining = remaining[~good]
    if not remaining.empty:
        as_serial = _numerals(remaining, _search(remaining, _PLAIN_NUMBER))
        serials = _serials_to_dates(as_serial.dropna())
        good = serials.notna()
        if good.any():
            account.coerced("excel_serial_date", remaining[serials.index[good]], serials[good])
            out[serials.index[good]] = serials[good]
    return out, t.index[ambiguous]


def _month_first(t: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(read month first, ambiguous) among date texts written with numbers only ("03/04/2025").

    Panama writes the day first, but an Excel set to English exports "12/25/2024": the column
    decides. A first number over 12 says day first, a second one over 12 says month first. With
    only month-first evidence, a date with a four-digit year is read month first (recorded as a
    coercion; a two-digit year is not read). With evidence both ways, a date whose two numbers
    could each be the month is not read: one reading would be months off."""
    nothing = pd.Series(False, index=t.index)
    found = pc.extract_regex(_one_array(t), _NUMERIC_DATE)
    valid = found.is_valid().to_numpy(zero_copy_only=False)
    if not valid.any():
        return nothing, nothing
    parts = found.filter(valid)
    first, second, year_digits = (np.zeros(len(t), dtype=int) for _ in range(3))
    first[valid] = pc.cast(parts.field("first"), pa.int32()).to_numpy(zero_copy_only=False)
    second[valid] = pc.cast(parts.field("second"), pa.int32()).to_numpy(zero_copy_only=False)
    year_digits[valid] = pc.utf8_length(parts.field("year")).to_numpy(zero_copy_only=False)
    numeric = pd.Series(valid, index=t.index)
    day_first, month_first = (first > 12).any(), (second > 12).any()
    if month_first and not day_first:
        return numeric & (year_digits == 4), numeric & (year_digits == 2)
    if month_first and day_first:
        return nothing, numeric & (first <= 12) & (second <= 12) & (first != second)
    return nothing, nothing


def _dates_in_format(texts: pd.Series, fmt: str) -> pd.Series:
    """``texts`` read as dates in ``fmt``, NaT where they are not.

    pandas reads "%d/%m/%Y" with a strptime in Python; the usual "15/01/2025" or "5/1/2025" is
    rewritten to ISO and read in C instead (about 40 ms less per 25k dates): the same dates
    accepted ("31/02/2025" refused either way). Anything else is still tried with strptime."""
    if fmt != "%d/%m/%Y":
        return pd.to_datetime(texts, format=fmt, errors="coerce")
    simple = _search(texts, _DAY_MONTH_YEAR)
    iso = _replaced(texts[simple], _DAY_MONTH_YEAR, r"\3-\2-\1")
    return pd.concat([pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce"),
                      pd.to_datetime(texts[~simple], format=fmt, errors="coerce")]).reindex(texts.index)


def _spanish_dates(text: pd.Series) -> pd.Series:
    """'15 de enero de 2025', 'miércoles, 15 de enero del 2025', '15-ene-2025', '19-ENE-19',
    'ene. 10, 2025', 'setiembre 10 de 2025' (a named month is never ambiguous)."""
    day_first = text.str.extract(_SPANISH_DATE)
    month_first = text.str.extract(_SPANISH_MONTH_FIRST)[[2, 1, 3]].set_axis([0, 1, 2], axis=1)
    parts = day_first.fillna(month_first)
    ok = parts[0].notna() & parts[1].notna()
    if not ok.any():
        return pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    months = parts[1][ok].str.lower().map(MONTH_NUMBERS)
    years = pd.to_numeric(parts[2][ok]).astype(int)
    two_digits = parts[2][ok].str.len() == 2
    years = years.mask(two_digits, years + np.where(years < TWO_DIGIT_YEAR_PIVOT, 2000, 1900))
    iso = years.astype(str) + "-" + months.astype(int).astype(str).str.zfill(2) + "-" + parts[0][ok].str.zfill(2)
    parsed = pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce")
    return parsed.reindex(text.index).astype("datetime64[us]")


def to_date(kinds: _Kinds, f: Field, account: _Account) -> pd.Series:
    text, numbers, other = kinds.text, kinds.numbers, kinds.other
    out = pd.Series(pd.NaT, index=kinds.index, dtype="datetime64[us]")
    if len(other):
        is_date = np.isin(_type_ids(other.to_numpy()), _DATE_TYPE_IDS)
        as_dates = pd.to_datetime(other[is_date], errors="coerce")
        read = as_dates.index[as_dates.notna()]
        out[read] = as_dates[read].dt.normalize()
        unread = other.drop(read)
        if len(unread):
            account.failed(unread, EXPECTED["date"])
    if len(numbers):
        serials = _serials_to_dates(numbers)
        good = serials.notna()
        if good.any():
            account.coerced("excel_serial_date", numbers[good], serials[good])
            out[serials.index[good]] = serials[good]
        if (~good).any():
            account.failed(numbers[~good], EXPECTED["date"])
    if len(text):
        parsed, refused = _parse_date_texts(text, account)
        good = parsed.notna()
        out[parsed.index[good]] = parsed[good].dt.normalize()
        unread = ~good & ~parsed.index.isin(refused)
        if unread.any():
            account.failed(text[unread], EXPECTED["date"])
    return out


def to_yearmonth(kinds: _Kinds, f: Field, account: _Account) -> pd.Series:
    """'2025-01' as is; '01/2025', '2025/1', 'enero 2025', a date or a date text to '2025-01'."""
    text, numbers, other = kinds.text, kinds.numbers, kinds.other
    out = pd.Series(None, index=kinds.index, dtype=object)
    bad: list[pd.Series] = []
    if len(text):
        t = text.str.strip()
        canonical = _search(t, YEARMONTH_PATTERN)
        out[t.index[canonical]] = t[canonical]
        if not canonical.all():  # the usual column (the run's own period) is all AAAA-MM
            bad.append(_other_yearmonth_texts(t[~canonical], f, account, out))
    if len(other) or len(numbers):
        source = pd.concat([other, numbers])
        dated = to_date(_Kinds.of(kinds.index, numbers=numbers, other=other), f, _Account(f.name, account.counts))
        dated = dated[source.index]
        good = dated.notna()
        months = dated[good].dt.strftime("%Y-%m")
        if good.any():
            account.coerced("date_as_yearmonth", source[good], months)
            out[months.index] = months
        bad.append(source[~good])
    for part in bad:
        if len(part):
            account.failed(part, EXPECTED["yearmonth"])
    return out.astype("str")


def _other_yearmonth_texts(rest: pd.Series, f: Field, account: _Account, out: pd.Series) -> pd.Series:
    """``to_yearmonth`` of the texts not written AAAA-MM: each read into ``out``, with its coercion;
    returns those that name no month."""
    ym = rest.str.extract(r"^(\d{4})\s*[-/.]\s*(\d{1,2})$")
    my = rest.str.extract(r"^(\d{1,2})\s*[-/.]\s*(\d{4})$")
    named = rest.str.extract(_SPANISH_MONTH_YEAR)
    year = ym[0].fillna(my[1]).fillna(named[1])
    month = pd.to_numeric(ym[1].fillna(my[0]), errors="coerce")
    month = month.fillna(named[0].str.lower().map(MONTH_NUMBERS))
    ok = year.notna() & month.between(1, 12)
    built = year[ok] + "-" + month[ok].astype(int).astype(str).str.zfill(2)
    if ok.any():
        account.coerced("text_yearmonth", rest[ok], built)
        out[built.index] = built
    leftover = rest[~ok]
    if not len(leftover):
        return leftover
    # a full date written in the period column: keep its month
    dates, _ = _parse_date_texts(leftover, _Account(f.name, account.counts))
    good = dates.notna()
    if good.any():
        months = dates[good].dt.strftime("%Y-%m")
        account.coerced("date_as_yearmonth", leftover[good], months)
        out[months.index] = months
    return leftover[~good]


CONVERTERS = {
    "string": to_string,
    "number": to_number,
    "integer": to_integer,
    "date": to_date,
    "yearmonth": to_yearmonth,
    "boolean": to_boolean,
}
