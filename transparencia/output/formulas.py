"""The one formula neutraliser: a text a spreadsheet would run as a formula gets a leading ``'``.

Excel, LibreOffice and Google Sheets treat a cell starting with ``= + - @``, a tab or a carriage
return as a formula (CSV injection); every published CSV and XLSX text cell goes through here.
Numbers are never neutralised: a negative amount stays a number.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# The same triggers as an RE2 pattern, for Arrow's column-wise replacement.
_LEADING_TRIGGER = "^([" + "".join(re.escape(t) for t in FORMULA_TRIGGERS) + "])"


def neutralise(text: str) -> str:
    """Prefix a text that a spreadsheet would read as a formula with ``'``."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def neutralise_cell(value: object) -> object:
    """A CSV cell made safe: texts neutralised, every other value (numbers, None) as it is."""
    return neutralise(value) if isinstance(value, str) else value


def neutralise_strings(texts: pa.Array) -> pa.Array:
    """``neutralise`` over a whole Arrow string column at once (nulls stay null)."""
    return pc.replace_substring_regex(texts, _LEADING_TRIGGER, r"'\1")
