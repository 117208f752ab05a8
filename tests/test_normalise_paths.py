"""The shortcut that skips taking empty cells out of a column that has none gives what the full
steps give: the same texts (values, dtype, index) and the same account, over every text column
the demo's inputs (with their deliberate errors) and the tricky columns below put through it."""

import contextlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from transparencia.domain import Period
from transparencia.errors import TransparenciaError
from transparencia.schemas import load_catalog
from transparencia.sources import headers, normalise
from transparencia.sources.config import DEFAULT_CONFIG, load_config
from transparencia.sources.demo import write_month
from transparencia.sources.registry import extract_source, planned_extractions

# Columns as people leave them: blanks, markers, Excel errors, pasted characters, among values.
TRICKY = [
    ["Ana", "  ", "Luis"], ["\u00a0", "Rosa"], ["N/A", "Pedro"], ["—", "-", "s/d", "no aplica"],
    ["#N/A", "#¡VALOR!", "x"], ["Yaritza\u200b", "Jose\u0301"], ["NULL", "ninguno", "Sin datos"],
    ["B/. -", "(  -  )", "$ -", "1,250.00"], ["Activo", "N/D"], ["", "\t"], ["8-123-4567", "8 123 4567"],
    ["2025-01", "01/2025", "enero 2025", "15/01/2025", "nada"], ["2025-01", " 2025-01 "],
]


def _corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[pd.Series, object]]:
    """Every (texts, field) ``_without_empty`` is called with while the demo's month is extracted."""
    for name in ("institution.yaml", "catalog-override.yaml"):
        shutil.copy(DEFAULT_CONFIG.parent / name, tmp_path / name)
    config = load_config(tmp_path / "institution.yaml")
    period = Period(2026, 10)
    write_month(config, period)
    seen: list[tuple[pd.Series, object]] = []
    original = normalise._without_empty

    def recorded(texts, f, account):
        seen.append((texts.copy(), f))
        return original(texts, f, account)

    monkeypatch.setattr(normalise, "_without_empty", recorded)
    for source, code in planned_extractions(config):
        with contextlib.suppress(TransparenciaError):  # the demo's missing source: the others still count
            extract_source(config, source, code, period)
    monkeypatch.undo()
    fields = [f for item in ("planilla", "viaticos") for f in load_catalog().get(item).table_schema().fields]
    for column in TRICKY:
        texts = pd.Series(column, index=pd.RangeIndex(len(column)), dtype="str")
        seen += [(texts, f) for f in fields]
    return seen


def test_the_shortcut_for_a_column_without_empty_cells_changes_nothing(tmp_path, monkeypatch):
    corpus = _corpus(tmp_path, monkeypatch)
    assert len(corpus) > 300
    shortcut_taken = 0
    for texts, f in corpus:
        fast, full = normalise._Account(f.name, np.ones(len(texts), int)), normalise._Account(f.name, np.ones(len(texts), int))
        kept = normalise._without_empty(texts, f, fast)
        reference = normalise._taken_out(texts, normalise._search(texts, normalise._BLANK_OR_MARKER), f, full)
        pd.testing.assert_series_equal(kept, reference, check_exact=True)
        assert (fast.coercions, fast.failed_values) == (full.coercions, full.failed_values), (f.name, list(texts))
        shortcut_taken += kept is texts
    assert 0 < shortcut_taken < len(corpus), "the corpus has columns with and without empty cells"


def _cells_of_the_demo(tmp_path: Path) -> set[str]:
    """Every cell of the demo month's workbooks, as text."""
    from openpyxl import load_workbook

    for name in ("institution.yaml", "catalog-override.yaml"):
        shutil.copy(DEFAULT_CONFIG.parent / name, tmp_path / name)
    written = write_month(load_config(tmp_path / "institution.yaml"), Period(2026, 10))
    cells = set()
    for path in written:
        if path.suffix == ".xlsx":
            for sheet in load_workbook(path, read_only=True).worksheets:
                cells |= {str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None}
    return cells


def test_folding_skips_taking_accents_off_ascii_and_gives_what_the_full_steps_give(tmp_path):
    """``fold`` leaves an ASCII text's NFKD decomposition out: each of the 128 characters, and every
    cell of the demo's workbooks and every header and synonym of the catalog, fold as with it."""
    assert all(headers._without_marks(chr(i)) == chr(i) for i in range(128))
    corpus = _cells_of_the_demo(tmp_path) | {"CÉDULA", "No. de Cédula", "N° de planilla", "Kelvin \u212a",
                                             "Jose\u0301", "Año\u200b", "İstanbul", "ﬁcha"}
    for item in load_catalog().datasets():
        corpus |= {text for f in item.table_schema().fields for text in (f.name, f.title, *f.synonyms)}
    assert any(text.isascii() for text in corpus) and not all(text.isascii() for text in corpus)

    def reference(text: str) -> str:
        raw = headers._NUMBER_SIGN.sub("no ", headers._INVISIBLE.sub("", text))
        return headers._NON_ALNUM.sub(" ", headers._without_marks(raw.lower())).strip()

    assert [headers.fold(text) for text in sorted(corpus)] == [reference(text) for text in sorted(corpus)]


def test_a_period_column_all_written_aaaa_mm_skips_only_steps_that_would_do_nothing(tmp_path, monkeypatch):
    """``to_yearmonth`` reads the other spellings only when some text is not AAAA-MM; it gives what
    reading them always gives (values, dtype, account) over every period column of the corpus."""
    periods = [(texts, f) for texts, f in _corpus(tmp_path, monkeypatch) if f.type == "yearmonth"]
    assert len(periods) >= 10
    skipped = 0
    for texts, f in periods:
        account = _account(f, texts)
        got = normalise.to_yearmonth(normalise._Kinds.of(texts.index, text=texts), f, account)
        stripped = texts.str.strip()
        canonical = normalise._search(stripped, normalise.YEARMONTH_PATTERN)
        out, reference = pd.Series(None, index=texts.index, dtype=object), _account(f, texts)
        out[stripped.index[canonical]] = stripped[canonical]
        unread = normalise._other_yearmonth_texts(stripped[~canonical], f, reference, out)
        if len(unread):
            reference.failed(unread, normalise.EXPECTED["yearmonth"])
        pd.testing.assert_series_equal(got, out.astype("str"), check_exact=True)
        assert (account.coercions, account.failed_values) == (reference.coercions, reference.failed_values)
        skipped += bool(canonical.all())
    assert 0 < skipped < len(periods), "the corpus has period columns with and without other spellings"


def _account(f, texts: pd.Series) -> normalise._Account:
    return normalise._Account(f.name, np.ones(len(texts), int))
