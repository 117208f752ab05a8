"""The shipped item schemas as data: they load, read in Spanish, their examples obey their own
constraints and rules, their rules name real fields of the right type, and they never carry the
personal data that must not be published (Ley 81 de 2019; reference §5)."""

import datetime as dt
import itertools
import re
import unicodedata

import pytest

from transparencia.errors import ConfigError
from transparencia.schemas import load_catalog, load_schema, schema_names
from transparencia.schemas.table import parse_schema

NAMES = schema_names()
# The reference's cédula shape (§3.10), written out here so the test does not lean on the validator.
CEDULA = re.compile(r"^(1[0-3]|[1-9]|PE|E|N|(1[0-3]|[1-9])AV|(1[0-3]|[1-9])PI)-\d{1,4}-\d{1,6}$")
RUC = re.compile(r"^(?:PE|E|N|NT|\d{1,9})(?:AV|PI)?(?:-\d{1,9}){2,3}(?:\s*(?:D\.?\s?V\.?)?\s*:?\s*\d{1,2})?$")
BOOLEAN_WORDS = {"sí", "si", "no", "true", "false", "1", "0"}
NEVER_PUBLISH = ("direccion", "telefono", "correo", "email", "fecha_nacimiento", "cuenta_bancaria",
                 "seguro_social", "descuento")
NUMERIC = {"number", "integer"}
# Numbers that are neither balboas nor percentages.
PLAIN_NUMBERS = {("estadisticas", "valor")}


def fields_of(name):
    return [(name, f) for f in load_schema(name).fields]


ALL_FIELDS = [pair for name in NAMES for pair in fields_of(name)]
FIELD_IDS = [f"{name}.{f.name}" for name, f in ALL_FIELDS]


def fold(text: str) -> str:
    """Header text as a matcher would compare it: lower case, no accents, single spaces."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(plain.lower().split())


def parse_example(f, text: str):
    """The example as a typed value, or an AssertionError naming why it does not parse."""
    if f.type == "number":
        return float(text)
    if f.type == "integer":
        assert re.fullmatch(r"-?\d+", text), f"{f.name}: '{text}' no es entero"
        return int(text)
    if f.type == "date":
        return dt.date.fromisoformat(text)
    if f.type == "yearmonth":
        assert re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", text), f"{f.name}: '{text}' no es AAAA-MM"
        return text
    if f.type == "boolean":
        assert text.lower() in BOOLEAN_WORDS, f"{f.name}: '{text}' no es sí/no"
        return text.lower() in {"sí", "si", "true", "1"}
    return text


def example_row(name):
    return {f.name: parse_example(f, f.example) for f in load_schema(name).fields if f.example}


def month_bounds(period: str) -> tuple[dt.date, dt.date]:
    first = dt.date.fromisoformat(period + "-01")
    after = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, after - dt.timedelta(days=1)


@pytest.mark.parametrize("name", NAMES)
def test_schema_loads_with_periodo_first_and_a_primary_key(name):
    schema = load_schema(name)
    first = schema.fields[0]
    assert (first.name, first.type, first.required) == ("periodo", "yearmonth", True)
    assert schema.primary_key[0] == "periodo" and len(schema.primary_key) >= 2
    assert len(set(schema.field_names)) == len(schema.field_names)
    assert schema.title and schema.description


def test_every_dataset_item_of_the_catalog_ships_its_schema():
    wanted = {i.schema for i in load_catalog().datasets()}
    assert wanted == set(NAMES)


@pytest.mark.parametrize("name, f", ALL_FIELDS, ids=FIELD_IDS)
def test_field_is_named_and_described_in_spanish(name, f):
    assert re.fullmatch(r"[a-z][a-z0-9_]*", f.name), "snake_case sin acentos"
    assert f.title and f.title[0].isupper() and "_" not in f.title
    assert f.description and f.description.rstrip().endswith(".")
    assert f.synonyms, "sin sinónimos"


@pytest.mark.parametrize("name, f", ALL_FIELDS, ids=FIELD_IDS)
def test_example_obeys_the_fields_own_constraints(name, f):
    if f.personal_data == "never":
        assert f.example is None, "un dato que nunca se publica no lleva ejemplo"
        return
    assert f.example is not None, "sin ejemplo"
    if f.example == "":
        assert not f.required, "un campo obligatorio necesita un ejemplo no vacío"
        return
    value = parse_example(f, f.example)
    if f.enum:
        assert f.example in f.enum
    if f.pattern:
        assert re.fullmatch(f.pattern, f.example)
    if f.max_length is not None:
        assert len(f.example) <= f.max_length
    if f.minimum is not None:
        assert value >= f.minimum
    if f.maximum is not None:
        assert value <= f.maximum
    if f.exclusive_minimum is not None:
        assert value > f.exclusive_minimum
    if f.format == "cedula":
        assert CEDULA.fullmatch(f.example)
    if f.format == "ruc":
        assert RUC.fullmatch(f.example)


@pytest.mark.parametrize("name, f", ALL_FIELDS, ids=FIELD_IDS)
def test_field_types_follow_the_house_conventions(name, f):
    if f.format in ("cedula", "ruc") or f.name.startswith(("cedula", "ruc")):
        assert f.type == "string" and f.format == f.name.split("_")[0]
    if f.format == "cedula":
        assert f.personal_data != "publish", "la cédula se enmascara u omite"
    if f.title.endswith("(B/.)"):
        assert f.type == "number"
    if f.type == "number" and (name, f.name) not in PLAIN_NUMBERS:
        assert f.title.endswith(("(B/.)", "(%)")), "un monto en balboas termina en (B/.)"


@pytest.mark.parametrize("name", NAMES)
def test_primary_key_fields_are_required(name):
    schema = load_schema(name)
    for key in schema.primary_key:
        assert schema.field(key).required, key
        assert schema.field(key).personal_data in ("publish", "mask"), key


RULE_SHAPES = {
    "date_order": {"start": "date", "end": "date"},
    "date_in_period": {"field": "date", "relation": None},
    "amount_product": {"total": "number", "factors": "numbers", "tolerance_per_unit": None},
    "amount_sum": {"total": "number", "parts": "numbers", "tolerance": None},
    "amounts_ordered": {"fields": "numbers"},
}


@pytest.mark.parametrize("name", NAMES)
def test_rules_name_existing_fields_of_the_right_type(name):
    schema = load_schema(name)
    for rule in schema.rules:
        shape = RULE_SHAPES[rule.check]
        assert set(rule.params) == set(shape), f"{rule.check}: parámetros {sorted(rule.params)}"
        for param, kind in shape.items():
            value = rule.params[param]
            if kind == "date":
                assert schema.field(value).type == "date", f"{rule.check}.{param}"
            elif kind == "number":
                assert schema.field(value).type in NUMERIC, f"{rule.check}.{param}"
            elif kind == "numbers":
                assert len(value) >= 2 and all(schema.field(v).type in NUMERIC for v in value)
        if rule.check == "date_in_period":
            assert rule.params["relation"] in ("within", "not_after_end")


def rule_holds(rule, row) -> bool | None:
    """Evaluate one rule on a row of parsed examples; None when a field it needs is empty."""
    p = rule.params
    if rule.check == "date_order":
        return None if p["end"] not in row else row[p["end"]] >= row[p["start"]]
    if rule.check == "date_in_period":
        if p["field"] not in row:
            return None
        first, last = month_bounds(row["periodo"])
        return row[p["field"]] <= last and (p["relation"] == "not_after_end" or row[p["field"]] >= first)
    if rule.check == "amount_product":
        a, b = (row[x] for x in p["factors"])
        return abs(row[p["total"]] - a * b) <= p["tolerance_per_unit"] * a
    if rule.check == "amount_sum":
        return abs(row[p["total"]] - sum(row[x] for x in p["parts"])) <= p["tolerance"]
    values = [row[x] for x in p["fields"] if x in row]
    return all(low <= high for low, high in itertools.pairwise(values))


@pytest.mark.parametrize("name", NAMES)
def test_the_examples_make_a_row_that_passes_every_rule(name):
    row = example_row(name)
    for rule in load_schema(name).rules:
        assert rule_holds(rule, row) is not False, f"{rule.check} {dict(rule.params)}"


@pytest.mark.parametrize("name, f", ALL_FIELDS, ids=FIELD_IDS)
def test_no_field_from_the_never_publish_list_exists(name, f):
    assert not any(word in f.name for word in NEVER_PUBLISH), f.name


@pytest.mark.parametrize("name", NAMES)
def test_a_header_text_maps_to_one_field_only(name):
    owner: dict[str, str] = {}
    for f in load_schema(name).fields:
        for text in {f.name.replace("_", " "), f.title, *f.synonyms}:
            key = fold(text)
            assert owner.setdefault(key, f.name) == f.name, f"'{text}' es de {owner[key]} y de {f.name}"


def published(name):
    return [f for f in load_schema(name).fields if f.personal_data != "never"]


CITIZEN_HEADERS = {"nombre", "nombres", "solicitante", "nombre del solicitante", "ciudadano", "detalle",
                   "nombre completo", "cedula", "peticionario"}


@pytest.mark.parametrize("name", ["solicitudes-informacion", "estadisticas"])
def test_requests_and_311_never_publish_a_citizens_name(name):
    for f in published(name):
        headers = {fold(s) for s in (f.name.replace("_", " "), f.title, *f.synonyms)}
        assert not headers & CITIZEN_HEADERS, f"{f.name} recogería {headers & CITIZEN_HEADERS}"
        assert "solicitante" not in f.name and "ciudadano" not in f.name


def test_the_requesters_name_and_text_are_recognised_only_to_be_dropped():
    schema = load_schema("solicitudes-informacion")
    assert schema.field("nombre_solicitante").personal_data == "never"
    assert schema.field("texto_solicitud").personal_data == "never"
    assert "nombre" in {fold(s) for s in schema.field("nombre_solicitante").synonyms}


def test_the_311_counts_are_a_category_of_the_statistics():
    schema = load_schema("estadisticas")
    assert "311" in schema.field("categoria").enum
    assert {"categoria", "indicador", "desagregacion", "valor", "unidad"} <= set(schema.field_names)


def test_a_natural_person_beneficiary_is_not_published_by_default():
    schema = load_schema("subsidios")
    assert schema.field("nombre_beneficiario").personal_data in ("omit", "never")
    assert schema.field("ruc").format == "ruc" and "jurídica" in schema.field("ruc").description


def test_budget_execution_orders_paid_accrued_committed():
    rules = [r for r in load_schema("ejecucion-presupuestaria").rules if r.check == "amounts_ordered"]
    errors = [list(r.params["fields"]) for r in rules if r.severity == "error"]
    assert ["pagado", "devengado", "compromiso"] in errors
    assert load_schema("ejecucion-presupuestaria").field("objeto_gasto").pattern == r"^\d{3}$"


def test_lists_population_needs_a_cedula_in_the_key_and_a_known_value():
    base = {"name": "x", "fields": [{"name": "periodo", "type": "yearmonth"}, {"name": "monto", "type": "number"}],
            "primaryKey": ["periodo"]}
    with pytest.raises(ConfigError, match="'lists: population' necesita una cédula"):
        parse_schema({**base, "lists": "population"}, "esquema x")
    with pytest.raises(ConfigError, match="'lists' debe ser uno de"):
        parse_schema({**base, "lists": "personas"}, "esquema x")
    assert parse_schema(base, "esquema x").lists == "events"
