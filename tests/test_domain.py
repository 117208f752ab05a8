"""The domain kernel: the period, the cédula grammar, the vocabularies and the file helpers."""

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from transparencia.domain import (
    Frequency,
    ItemStatus,
    OutputFormat,
    Period,
    PrivacyPolicy,
    Target,
    atomic_write,
    cedula,
    load_yaml,
    sha256_bytes,
    sha256_file,
)
from transparencia.errors import ConfigError


def test_period_parses_once_and_renders_text_only_at_the_edges():
    period = Period.parse(" 2025-01 ")
    assert period == Period(2025, 1) and Period.parse(period) is period
    assert str(period) == "2025-01" and period.label_es == "enero de 2025"
    assert (period.start, period.end, period.last_day) == (dt.date(2025, 1, 1), dt.date(2025, 2, 1), dt.date(2025, 1, 31))
    assert period.placeholders() == {"period": "2025-01", "year": "2025", "month": "01"}


def test_a_period_is_abbreviated_in_spanish_for_chart_axes():
    assert Period(2026, 10).short_label_es == "oct. 2026" and Period(2026, 9).short_label_es == "sept. 2026"
    assert Period(2025, 1).short_label_es == "ene. 2025"


@pytest.mark.parametrize("text", ["2025-13", "2025-1", "25-01", "enero", ""])
def test_a_malformed_period_is_a_configuration_error(text):
    with pytest.raises(ConfigError, match="Período inválido"):
        Period.parse(text)
    assert not Period.is_valid(text)


def test_month_arithmetic_crosses_years():
    assert Period(2025, 1).shift(-1) == Period(2024, 12)
    assert Period(2024, 12).shift(1) == Period(2025, 1)
    assert Period(2025, 3).shift(-14) == Period(2024, 1)
    assert Period.previous(dt.date(2025, 1, 15)) == Period(2024, 12)
    assert Period(2025, 1).months_since(dt.date(2023, 12, 31)) == 13
    assert Period(2024, 2).last_day == dt.date(2024, 2, 29)
    assert sorted([Period(2025, 1), Period(2024, 12)]) == [Period(2024, 12), Period(2025, 1)]


@pytest.mark.parametrize("typed, canonical", [
    ("8-123-4567", "8-123-4567"),
    ("08-0123-04567", "8-123-4567"),
    ("8 123 4567", "8-123-4567"),
    ("8.123.4567", "8-123-4567"),
    ("pe-12-345", "PE-12-345"),
    ("3AV-1-22", "3AV-1-22"),
    ("8-0-45", None),  # a group of only zeros
    ("81234567", None),  # ambiguous: no separators
    ("14-1-2", None),  # no province 14
])
def test_one_cedula_grammar_with_one_leading_zeros_rule(typed, canonical):
    assert cedula.normalise(typed) == canonical
    if canonical is not None:
        assert cedula.is_valid(canonical)
    assert not cedula.is_valid("08-0123-04567") and not cedula.is_valid("8-0-45")


def test_masking_keeps_first_and_last_parts_in_values_and_in_text():
    assert cedula.mask("08-0123-04567") == "8-***-4567"
    assert cedula.mask("Juan") is None
    assert cedula.mask_in_text("Cédula 8-0123-4567 repetida; PE-12-345 también") == \
        "Cédula 8-***-4567 repetida; PE-***-345 también"


def test_vocabularies_carry_labels_and_uris_and_compare_as_their_identifiers():
    assert Frequency("yearly").label == "anual" and Frequency.YEARLY.dcat_uri == "http://publications.europa.eu/resource/authority/frequency/ANNUAL"
    assert Frequency.ON_CHANGE.freshness_months is None and Frequency.QUARTERLY.freshness_months == 3
    assert PrivacyPolicy.MASK == "mask" and PrivacyPolicy.MASK.published and not PrivacyPolicy.NEVER.published
    assert json.dumps({"estado": ItemStatus.NOT_RECEIVED}) == '{"estado": "faltante"}'
    assert all(status.label for status in ItemStatus)
    assert [s for s in ItemStatus if s.fulfilled] == [ItemStatus.PUBLISHED, ItemStatus.PUBLISHED_WITH_WARNINGS]
    assert OutputFormat.XLSX.media_type.endswith("spreadsheetml.sheet") and OutputFormat.CSV.label == "CSV"
    assert Target.CKAN.label == "portal CKAN"


def test_a_value_outside_a_vocabulary_names_the_key_and_the_choices():
    with pytest.raises(ConfigError, match=r"publish.target: 'ftp' inválido; use uno de: local, ckan"):
        Target.parse("ftp", "publish.target")
    with pytest.raises(ConfigError, match="formato 'html' desconocido; use csv, xlsx, json, parquet"):
        OutputFormat.parse_data("html", "publish.formats[0]")
    with pytest.raises(ConfigError, match="política 'never' inválida; use una de publish, mask, omit"):
        PrivacyPolicy.parse_override("never", "privacy.planilla.cedula")


def test_atomic_write_replaces_in_one_step_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "a.json"
    atomic_write(target, b"uno")
    inode = target.stat().st_ino
    atomic_write(target, b"dos")
    assert target.read_bytes() == b"dos" and target.stat().st_ino != inode
    assert oct(target.stat().st_mode & 0o777) == "0o644"
    assert os.listdir(target.parent) == ["a.json"]
    assert sha256_file(target) == sha256_bytes(b"dos")


def test_a_failed_check_abandons_the_write(tmp_path):
    target = tmp_path / "a.txt"
    target.write_bytes(b"original")

    def refuse(_temporary):
        raise ValueError("no")

    with pytest.raises(ValueError):
        atomic_write(target, b"nuevo", check=refuse)
    assert target.read_bytes() == b"original" and os.listdir(tmp_path) == ["a.txt"]


def test_yaml_is_read_as_plain_data_with_the_line_of_an_error():
    import yaml

    shipped = (Path(__file__).parents[1] / "schemas" / "catalog.yaml").read_text(encoding="utf-8")
    assert load_yaml(shipped) == yaml.safe_load(shipped)
    with pytest.raises(yaml.YAMLError) as error:
        load_yaml("a: 1\nb: !!python/object:os.system ls\n")
    assert error.value.problem_mark.line == 1
    with pytest.raises(yaml.YAMLError) as error:
        load_yaml("a: [1, 2\nb: 3\n")
    assert error.value.problem_mark is not None


def test_one_registry_names_the_choices_and_the_closest_one():
    from transparencia.domain.registry import Registry
    from transparencia.publishers.backends import BACKENDS
    from transparencia.publishers.formats import WRITERS
    from transparencia.sources.registry import CONNECTORS

    assert WRITERS.names() == sorted(OutputFormat.data_formats())  # every data format has its writer
    assert BACKENDS.names() == sorted(Target)
    assert CONNECTORS.names() == ["database", "file"]
    registry: Registry[int] = Registry("destino de publicación", "destinos")
    registry.add("local", 1)
    with pytest.raises(ConfigError, match=r"publish.target: destino de publicación desconocido 'locl' "
                                          r"\(¿quiso decir 'local'\?\); destinos: local"):
        registry.get("locl", "publish.target")


@pytest.mark.parametrize("command", [["run"], ["retirar", "viaticos", "--motivo", "x"]])
def test_an_unknown_target_is_named_with_its_choices_and_exits_2(command):
    from pathlib import Path

    from typer.testing import CliRunner

    from transparencia.cli import app

    sample = Path(__file__).resolve().parents[1] / "data" / "institution.yaml"
    result = CliRunner().invoke(app, [*command, "--period", "2025-01", "--target", "ftp", "--config", str(sample)])
    assert result.exit_code == 2 and "--target: 'ftp' inválido; use uno de: local, ckan" in result.output
