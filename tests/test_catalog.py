import json
import textwrap

import pytest
from typer.testing import CliRunner

from transparencia.cli import app
from transparencia.errors import ConfigError
from transparencia.schemas import load_catalog, load_schema, schema_names

runner = CliRunner()


def test_catalog_has_the_24_items_with_unique_codes_and_slugs():
    catalog = load_catalog()
    assert len(catalog) == 24
    assert len({i.code for i in catalog}) == 24
    assert len({i.slug for i in catalog}) == 24


def test_every_dataset_item_has_a_schema_that_loads():
    for item in load_catalog().datasets():
        schema = item.table_schema()
        assert "periodo" in schema.field_names, item.code


def test_every_shipped_schema_belongs_to_an_item():
    used = {i.schema for i in load_catalog().datasets()}
    assert set(schema_names()) <= used


def test_items_are_found_by_code_or_short_name_forgiving_accents():
    catalog = load_catalog()
    assert catalog.get("11.3").slug == "planilla"
    assert catalog.get("PLANILLA").code == "11.3"
    assert catalog.get("Viáticos").code == "11.6"
    with pytest.raises(ConfigError, match="Punto desconocido 'nomina'"):
        catalog.get("nomina")


def test_planilla_and_viaticos_have_the_required_fields():
    planilla = load_schema("planilla").field_names
    for name in ["periodo", "unidad_administrativa", "nombre", "apellido", "cedula", "cargo",
                 "condicion", "salario_mensual", "gasto_representacion", "fecha_inicio"]:
        assert name in planilla
    viaticos = load_schema("viaticos").field_names
    for name in ["periodo", "nombre", "cargo", "destino", "tipo_mision", "fecha_salida",
                 "fecha_regreso", "dias", "tarifa_diaria", "monto"]:
        assert name in viaticos


def test_override_renames_marks_not_applicable_and_adds(tmp_path):
    override = tmp_path / "catalogo.yaml"
    override.write_text(textwrap.dedent("""\
        items:
          - code: "11.7"
            applies: false
            reason: La institución no paga combustible.
          - code: "9.6"
            name: Formularios de trámites migratorios
          - code: "X.1"
            slug: informes-gestion
            name: Informes de gestión
            legal_basis: Resolución interna
            kind: document
            frequency: yearly
            directorate: direccion
            dataset: "{acronym}-informes-gestion"
        """), encoding="utf-8")
    catalog = load_catalog(override)
    assert len(catalog) == 25
    assert catalog.get("11.7").applies is False
    assert catalog.get("9.6").name == "Formularios de trámites migratorios"
    assert catalog.get("informes-gestion").evidence == "institution"


def test_override_with_a_wrong_key_names_it(tmp_path):
    override = tmp_path / "catalogo.yaml"
    override.write_text('items:\n  - code: "11.7"\n    aplica: false\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="aplica"):
        load_catalog(override)


def test_items_json_lists_the_required_keys():
    result = runner.invoke(app, ["items", "--json"])
    assert result.exit_code == 0
    items = json.loads(result.stdout)
    assert len(items) == 24
    for key in ("code", "name", "kind", "frequency", "legal_basis"):
        assert all(key in i for i in items)


def test_items_table_is_in_spanish():
    result = runner.invoke(app, ["items"])
    assert result.exit_code == 0
    assert "Puntos obligatorios de transparencia" in result.stdout


def test_a_schema_that_is_not_valid_yaml_gives_a_config_error(tmp_path, monkeypatch):
    from importlib import resources

    from transparencia.schemas import table

    (tmp_path / "items").mkdir()
    (tmp_path / "items" / "roto.yaml").write_text("name: roto\nfields: [\n", encoding="utf-8")
    monkeypatch.setattr(resources, "files", lambda package: tmp_path)
    table.load_schema.cache_clear()
    with pytest.raises(ConfigError, match="no es YAML válido"):
        table.load_schema("roto")
    table.load_schema.cache_clear()


def test_every_default_directorate_has_a_spanish_name():
    catalog = load_catalog()
    assert {i.directorate for i in catalog} <= set(catalog.directorate_names)
    assert catalog.directorate_names["legal"] == "Asesoría Legal"
