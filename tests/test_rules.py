"""Each generated check and each row rule: one failing and one passing case.

A synthetic schema exercises every constraint and rule, so the checks are covered even where no
shipped item uses them yet.
"""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from transparencia.domain import Period, cedula
from transparencia.errors import ConfigError
from transparencia.schemas.table import parse_schema
from transparencia.validation.expectations import anchored, run_suite, schema_checks
from transparencia.validation.rules import run_rules

SCHEMA = parse_schema({
    "name": "prueba",
    "fields": [
        {"name": "periodo", "type": "yearmonth", "constraints": {"required": True}},
        {"name": "codigo", "type": "string", "constraints": {"required": True, "pattern": "A|B\\d"}},
        {"name": "estado", "type": "string", "constraints": {"enum": ["Activo", "Inactivo"]}},
        {"name": "nota", "type": "string", "constraints": {"maxLength": 5}},
        {"name": "cedula", "type": "string", "format": "cedula"},
        {"name": "ruc", "type": "string", "format": "ruc"},
        {"name": "cantidad", "type": "integer", "constraints": {"minimum": 0, "maximum": 10}},
        {"name": "precio", "type": "number", "constraints": {"exclusiveMinimum": 0}},
        {"name": "parte_a", "type": "number"},
        {"name": "parte_b", "type": "number"},
        {"name": "total", "type": "number"},
        {"name": "desde", "type": "date"},
        {"name": "hasta", "type": "date"},
    ],
    "primaryKey": ["periodo", "codigo"],
    "rules": [
        {"check": "date_order", "start": "desde", "end": "hasta"},
        {"check": "amount_product", "total": "total", "factors": ["cantidad", "precio"], "tolerance_per_unit": 0.01},
        {"check": "date_in_period", "field": "desde", "relation": "within", "severity": "warning"},
        {"check": "date_in_period", "field": "hasta", "relation": "not_after_end"},
        {"check": "amount_sum", "total": "total", "parts": ["parte_a", "parte_b"], "tolerance": 0.01},
        {"check": "amounts_ordered", "fields": ["parte_a", "parte_b", "total"]},
    ],
}, "prueba")

GOOD = {
    "periodo": "2025-01", "codigo": "A", "estado": "Activo", "nota": "ok", "cedula": "8-123-4567",
    "ruc": "2588017-1-831938 DV 57", "cantidad": 4, "precio": 25.0, "parte_a": 40.0, "parte_b": 60.0,
    "total": 100.0, "desde": "2025-01-10", "hasta": "2025-01-12",
}


def frame_of(*changes: dict, first_row: int = 2) -> pd.DataFrame:
    """Rows of GOOD with changes, typed as an Extraction frame, indexed by spreadsheet row."""
    rows = [{**GOOD, **c} for c in changes]
    frame = pd.DataFrame(rows, index=range(first_row, first_row + len(rows)))
    for name in ("periodo", "codigo", "estado", "nota", "cedula", "ruc"):
        frame[name] = frame[name].astype("str")
    frame["cantidad"] = frame["cantidad"].astype("Int64")
    for name in ("precio", "parte_a", "parte_b", "total"):
        frame[name] = frame[name].astype("float64")
    for name in ("desde", "hasta"):
        frame[name] = pd.to_datetime(frame[name])
    return frame


def found(frame: pd.DataFrame, period: Period | None = Period(2025, 1)) -> dict[tuple[str, str], list[int]]:
    hits = run_suite(frame, SCHEMA) + run_rules(frame, SCHEMA, period)
    return {(h.rule, h.column): [int(r) for r in h.rows] for h in hits}


def test_the_good_row_passes_every_check():
    assert found(frame_of({})) == {}


CASES = [
    ("required", "codigo", {"codigo": None}, {"codigo": "B7"}),
    ("yearmonth", "periodo", {"periodo": "2025-13"}, {"periodo": "2025-12"}),
    ("pattern", "codigo", {"codigo": "AB1"}, {"codigo": "B1"}),
    ("enum", "estado", {"estado": "activo"}, {"estado": "Inactivo"}),
    ("max-length", "nota", {"nota": "demasiado"}, {"nota": "corto"}),
    ("cedula", "cedula", {"cedula": "8-123-4567-1"}, {"cedula": "PE-1234-12345"}),
    ("cedula", "cedula", {"cedula": "14-1-1"}, {"cedula": "13PI-1-1"}),
    # the leading-zeros rule (domain.cedula): a tomo of only zeros, or written with zeros, is not canonical
    ("cedula", "cedula", {"cedula": "8-0-45"}, {"cedula": "8-1-45"}),
    ("cedula", "cedula", {"cedula": "8-0123-4567"}, {"cedula": "8-123-4567"}),
    ("ruc", "ruc", {"ruc": "RUC pendiente"}, {"ruc": "8-123-4567 DV 12"}),
    ("minimum", "cantidad", {"cantidad": -1, "precio": None}, {"cantidad": 0, "precio": None}),
    ("maximum", "cantidad", {"cantidad": 11, "total": 275.0, "parte_b": 235.0}, {"cantidad": 10, "total": 250.0, "parte_b": 210.0}),
    ("exclusive-minimum", "precio", {"precio": 0.0, "total": 0.0, "parte_a": 0.0, "parte_b": 0.0}, {"precio": 0.01, "total": 0.04, "parte_a": 0.0, "parte_b": 0.04}),
    ("date-order", "hasta", {"hasta": "2025-01-09"}, {"hasta": "2025-01-10"}),
    ("amount-product", "total", {"total": 100.05, "parte_b": 60.05}, {"total": 100.04, "parte_b": 60.04}),
    ("date-in-period", "desde", {"desde": "2024-12-31"}, {"desde": "2025-01-01"}),
    ("date-after-period", "hasta", {"hasta": "2025-02-01"}, {"hasta": "2025-01-31"}),
    ("amount-sum", "total", {"parte_a": 39.0}, {"parte_a": 39.995}),
    ("amounts-ordered", "parte_b", {"parte_a": 70.0, "parte_b": 30.0}, {"parte_a": 50.0, "parte_b": 50.0}),
]


@pytest.mark.parametrize("rule, column, failing, passing", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_each_check_fails_on_a_bad_value_and_passes_a_good_one(rule, column, failing, passing):
    frame = frame_of({}, {"codigo": "B1", **failing}, {"codigo": "B2", **passing}, first_row=7)
    hits = found(frame)
    assert hits == {(rule, column): [8]}


def test_duplicate_primary_key_names_every_repeated_row():
    frame = frame_of({}, {"codigo": "B1"}, {}, first_row=4)
    assert found(frame) == {("duplicate-key", "periodo, codigo"): [4, 6]}
    assert found(frame_of({}, {"codigo": "B1"}, {"periodo": "2025-01", "codigo": "B2"})) == {}


def test_missing_operands_are_left_to_the_required_checks():
    frame = frame_of({"desde": None, "cantidad": None, "precio": None})
    assert found(frame) == {}


def test_a_blank_part_counts_as_zero_in_a_sum():
    assert found(frame_of({"parte_a": None, "parte_b": 100.0})) == {}
    assert found(frame_of({"parte_a": None})) == {("amount-sum", "total"): [2]}


def test_without_a_period_the_period_rules_are_skipped():
    frame = frame_of({"desde": "2030-01-01", "hasta": "2030-01-02"})
    assert found(frame, period=None) == {}


@pytest.mark.parametrize("rule, expected", [
    ({"check": "date_order", "start": "desde"}, "a la regla 'date_order' le falta el parámetro 'end'"),
    ({"check": "amount_sum", "total": "total", "parts": ["parte_a", "partes"]}, "nombra un campo inexistente 'partes'"),
    ({"check": "amount_product", "total": "total", "factors": ["cantidad"]}, "los parámetros de la regla 'amount_product' no son válidos"),
    ({"check": "amount_sum", "total": "total", "parts": ["parte_a"], "tolerance": "poca"}, "no son válidos"),
    ({"check": "date_in_period", "field": "desde", "relation": "durante"}, "'relation' de date_in_period"),
])
def test_rule_parameters_are_checked_before_any_row_is_read(rule, expected):
    schema = parse_schema({**SCHEMA.descriptor, "rules": [rule]}, "prueba")
    with pytest.raises(ConfigError, match=expected):
        schema.check_rules()


def test_patterns_are_anchored_whole_value_matches():
    assert anchored("A|B\\d") == "^(?:A|B\\d)$"
    assert anchored("^\\d+$") == "^(?:\\d+)$"
    assert cedula.CANONICAL_PATTERN.startswith("^(?:") and cedula.CANONICAL_PATTERN.endswith("$")


def test_checks_are_generated_from_the_schema_not_written_per_item():
    rules = {(c.rule, c.column) for c in schema_checks(SCHEMA)}
    assert ("cedula", "cedula") in rules and ("ruc", "ruc") in rules
    assert ("duplicate-key", "periodo, codigo") in rules
    assert ("required", "estado") not in rules
    ruc = next(c for c in schema_checks(SCHEMA) if c.rule == "ruc")
    assert ruc.severity == "warning"


def test_a_rule_naming_an_unknown_field_or_check_is_a_config_error():
    bad_field = parse_schema({**SCHEMA.descriptor, "rules": [{"check": "date_order", "start": "desde", "end": "nope"}]}, "x")
    with pytest.raises(ConfigError, match="nope"):
        run_rules(frame_of({}), bad_field, Period(2025, 1))
    bad_check = parse_schema({**SCHEMA.descriptor, "rules": [{"check": "magia"}]}, "x")
    with pytest.raises(ConfigError, match="regla desconocida 'magia'"):
        run_rules(frame_of({}), bad_check, Period(2025, 1))


# Run in a new interpreter: whether a module was ever executed is a fact of the whole process.
DEFERRED = """
import sys
from tests.test_rules import found, frame_of
assert found(frame_of({}, {"codigo": "C", "cantidad": 40})), "the bad row is found"
assert "scipy.stats._stats_py" not in sys.modules, "validating executed scipy.stats"
from scipy import stats
assert stats.norm.cdf(0) == 0.5 and "scipy.stats._stats_py" in sys.modules
"""


def test_validating_never_executes_the_modules_gx_imports_but_no_check_uses():
    """GX imports scipy.stats for an expectation the suites never use: it is deferred (a third of
    GX's import), found and executed whole by whoever does use it."""
    done = subprocess.run([sys.executable, "-c", DEFERRED], cwd=Path(__file__).resolve().parents[1],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
