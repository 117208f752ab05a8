"""Matching the headers people write to a schema's fields, and finding the header row.

Directorates write "CÉDULA", "No. de Cédula" or "Cédula de identidad personal" for the same field;
the schema declares those spellings as ``synonyms``. Headers and synonyms are compared in a folded
form (no accents, lower case, punctuation as spaces), first exactly, then by containment ("Salario
mensual bruto en B/." contains the synonym "salario mensual bruto"), so a header row can be found
wherever the banner above it ends.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from transparencia.schemas.table import TableSchema

HEADER_SCAN_ROWS = 40  # banners above the header rarely exceed a dozen rows
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_PARENTHESISED = re.compile(r"\([^)]*\)")
_NUMBER_SIGN = re.compile(r"\bn\s*[°º]\s*", re.IGNORECASE)
# Characters pasted along with text but never seen: zero-width spaces and joiners, BOM, soft hyphen,
# the direction marks and embeddings a web page or a right-to-left setting leaves (LRM, RLM, U+202A-E,
# U+2066-9), invisible operators and the combining grapheme joiner.
INVISIBLE = "[\u00ad\u034f\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
_INVISIBLE = re.compile(INVISIBLE)
# Words that add nothing to a header: "Monto en B/.", "Salario (en balboas)".
_FILLER = {"en", "b", "balboas", "usd", "pab"}


def fold(text: object) -> str:
    """Accent-, case-, spacing- and punctuation-insensitive form of a header or value (invisible
    characters pasted with it, such as a zero-width space, are dropped, not read as spaces)."""
    if text is None:
        return ""
    raw = _NUMBER_SIGN.sub("no ", _INVISIBLE.sub("", str(text)))
    lowered = raw.lower()
    # ASCII has no accents to take off (NFKD leaves it as it is): most cells a header search reads.
    plain = lowered if lowered.isascii() else _without_marks(lowered)
    return _NON_ALNUM.sub(" ", plain).strip()


def _without_marks(text: str) -> str:
    """``text`` decomposed (NFKD) without its combining marks: 'canción' -> 'cancion'."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@lru_cache(maxsize=4096)
def _header_forms(text: str) -> tuple[str, ...]:
    """The folded header, and the same without parenthesised notes and currency words."""
    forms = [fold(text)]
    stripped = fold(_PARENTHESISED.sub(" ", str(text)))
    words = [w for w in stripped.split() if w not in _FILLER]
    for form in (stripped, " ".join(words)):
        if form and form not in forms:
            forms.append(form)
    return tuple(f for f in forms if f)


def _schema_key(schema: TableSchema) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    return tuple((f.name, f.title, f.synonyms) for f in schema.fields)


@lru_cache(maxsize=64)
def _spellings(fields: tuple[tuple[str, str, tuple[str, ...]], ...]) -> dict[str, list[str]]:
    spellings: dict[str, list[str]] = {}
    for name, title, synonyms in fields:
        forms: list[str] = []
        for text in (name.replace("_", " "), title, *synonyms):
            for form in _header_forms(text):
                if form not in forms:
                    forms.append(form)
        spellings[name] = forms
    return spellings


@dataclass
class ColumnMatch:
    """Which source column feeds which field: positions refer to the ``headers`` list given."""

    positions: dict[str, int] = field(default_factory=dict)  # field -> index in headers
    column_map: dict[str, str] = field(default_factory=dict)  # field -> header text as written
    missing: list[str] = field(default_factory=list)  # fields no header matched
    ignored: list[str] = field(default_factory=list)  # non-empty headers matching no field
    ambiguous: dict[str, list[int]] = field(default_factory=dict)  # field -> positions of headers that match it equally

    @property
    def score(self) -> int:
        return len(self.positions)


def _contains(header: str, spelling: str) -> bool:
    return f" {spelling} " in f" {header} "


@lru_cache(maxsize=64)
def _any_spelling(schema_key: tuple) -> re.Pattern:
    """One pattern for "contains some field's spelling as whole words", the test ``match_columns``
    applies to a lone header, run in C on each cell that might head a column."""
    spellings = sorted({s for forms in _spellings(schema_key).values() for s in forms}, key=len, reverse=True)
    return re.compile("(?<![^ ])(?:" + "|".join(map(re.escape, spellings)) + ")(?![^ ])")


def _names_a_field(text: str, schema_key: tuple) -> bool:
    """Whether ``text`` alone would name a field of the schema whose ``_schema_key`` is ``schema_key``
    (``match_columns([text], schema).score > 0``)."""
    pattern = _any_spelling(schema_key)
    return any(pattern.search(form) for form in _header_forms(text))


def match_columns(headers: list[str], schema: TableSchema) -> ColumnMatch:
    """Map headers to fields: exact folded matches first, then the longest contained spelling.

    Each header feeds at most one field. When several headers match a field equally well
    ("Salario" and "Salario Base", or "Salario" twice) the first is taken and all of them are
    listed in ``ambiguous``: an extractor must stop there, since which one holds the field
    cannot be told from the headers.
    """
    texts = tuple(None if h is None else str(h) for h in headers)  # all the matching looks at
    positions, column_map, missing, ignored, ambiguous = _match_texts(texts, _schema_key(schema))
    return ColumnMatch(dict(positions), dict(column_map), list(missing), list(ignored),
                       {name: list(rivals) for name, rivals in ambiguous})


@lru_cache(maxsize=8192)
def _match_texts(headers: tuple[str | None, ...], schema_key: tuple) -> tuple:
    """``match_columns`` on hashable arguments, cached: finding a header tries the same rows,
    and single cells of them, many times over (about 1,300 matches for a 40-row scan)."""
    spellings = _spellings(schema_key)
    field_names = [name for name, _title, _synonyms in schema_key]
    header_forms = [_header_forms(h) if h is not None and h.strip() else () for h in headers]
    pattern = _any_spelling(schema_key)
    naming = [(i, forms) for i, forms in enumerate(header_forms) if any(pattern.search(h) for h in forms)]
    positions: dict[str, int] = {}
    taken: set[int] = set()

    for name, forms in spellings.items():  # pass 1: exact spelling
        for i, hforms in naming:
            if i not in taken and any(h in forms for h in hforms):
                positions[name] = i
                taken.add(i)
                break

    candidates = []  # pass 2: a header containing a spelling, longest spelling first
    for name, forms in spellings.items():
        if name in positions:
            continue
        for i, hforms in naming:
            if i in taken:
                continue
            best = max((len(s) for s in forms for h in hforms if _contains(h, s)), default=0)
            if best:
                candidates.append((best, -i, name, i))
    for _, _, name, i in sorted(candidates, reverse=True):
        if name not in positions and i not in taken:
            positions[name] = i
            taken.add(i)
    exact = {name: [i for i, hforms in naming if any(h in forms for h in hforms)] for name, forms in spellings.items()}
    contained = {(name, i): best for best, _, name, i in candidates}
    ambiguous = []
    for name in field_names:
        if name not in positions:
            continue
        winner = positions[name]
        if winner in exact[name]:
            rivals = [i for i in exact[name] if i != winner and i not in taken]
        else:
            rivals = [i for (n, i), best in contained.items()
                      if n == name and i != winner and i not in taken and best == contained[(name, winner)]]
        if rivals:
            ambiguous.append((name, tuple(sorted([winner, *rivals]))))

    ordered = tuple((n, positions[n]) for n in field_names if n in positions)
    return (
        ordered,
        tuple((n, str(headers[i]).strip()) for n, i in ordered),
        tuple(n for n in field_names if n not in positions),
        tuple(str(h).strip() for i, h in enumerate(headers) if i not in taken and header_forms[i]),
        tuple(ambiguous),
    )


def competing_columns(match: ColumnMatch, headers: list, schema: TableSchema, label: Callable[[int], str]) -> str:
    """The Spanish account of ``match.ambiguous`` ('' when none): which columns compete for which field.

    ``label`` names a column position as the officer finds it ("columna G")."""
    parts = []
    for name, rivals in match.ambiguous.items():
        columns = " y ".join(f"'{str(headers[i]).strip()}' ({label(i)})" for i in rivals)
        parts.append(f"{columns} corresponden las dos a «{schema.field(name).title}»"
                     if len(rivals) == 2 else f"{columns} corresponden todas a «{schema.field(name).title}»")
    return "; ".join(parts)




@dataclass
class HeaderLocation:
    """Where the header is in a grid of rows (0-based offsets into the rows scanned)."""

    first_row: int
    row_count: int  # 1, or 2 for a header spread over two rows
    headers: list[str]
    match: ColumnMatch


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value != value:
        return ""
    return str(value).strip()


def _two_row_headers(top: list[str], bottom: list[str], fill_spans: list[tuple[int, int]]) -> list[str]:
    """Combine a group row ("Remuneración", merged across) with the row of sub-headers below it."""
    top = list(top)
    for first, last in fill_spans:  # a merged group title applies to every column it spans
        for j in range(first + 1, min(last + 1, len(top))):
            top[j] = top[j] or top[first]
    combined = []
    for j in range(max(len(top), len(bottom))):
        upper = top[j] if j < len(top) else ""
        lower = bottom[j] if j < len(bottom) else ""
        combined.append(f"{upper} {lower}".strip() if upper != lower else upper)
    return combined


def _best_two_row(top: list[str], bottom: list[str], schema: TableSchema,
                  spans: list[tuple[int, int]]) -> tuple[list[str], ColumnMatch]:
    """Per column, the reading (lower only, upper only, both) that names a field."""
    combined = _two_row_headers(top, bottom, spans)
    key = _schema_key(schema)
    chosen = []
    for j, both in enumerate(combined):
        upper = top[j] if j < len(top) else ""
        lower = bottom[j] if j < len(bottom) else ""
        options = [o for o in (both, lower, upper) if o]
        named = next((o for o in options if _names_a_field(o, key)), None)
        chosen.append(named or (options[0] if options else ""))
    return chosen, match_columns(chosen, schema)


def find_header(rows: list[list], schema: TableSchema,
                merged_spans: dict[int, list[tuple[int, int]]] | None = None) -> HeaderLocation | None:
    """The row (or pair of rows) among the first ones that names the most schema fields.

    ``merged_spans`` maps a row offset to the (first, last) columns of the merged ranges that
    start on it, so a group title merged across columns applies to each sub-header below it.
    Returns None when no row names at least two fields.
    """
    scanned = [[_text(v) for v in row] for row in rows[:HEADER_SCAN_ROWS]]
    best: HeaderLocation | None = None
    for r, row in enumerate(scanned):
        if not any(row):
            continue
        match = match_columns(row, schema)
        if best is None or match.score > best.match.score:
            best = HeaderLocation(r, 1, row, match)
        if r + 1 < len(scanned) and any(scanned[r + 1]) and sum(1 for v in row if v) >= 2:  # not a banner
            spans = (merged_spans or {}).get(r, [])
            headers, pair = _best_two_row(row, scanned[r + 1], schema, spans)
            if pair.score > match.score and (best is None or pair.score > best.match.score):
                best = HeaderLocation(r, 2, headers, pair)
    if best is None or best.match.score < min(2, len(schema.fields)):
        return None
    return best


def seen_headers(rows: list[list], limit: int = 12) -> list[str]:
    """The texts of the first non-empty rows, to show the officer what we saw instead."""
    seen: list[str] = []
    for row in rows[:HEADER_SCAN_ROWS]:
        for value in row:
            text = _text(value)
            if text and text not in seen:
                seen.append(text)
        if len(seen) >= limit:
            break
    return seen[:limit]
