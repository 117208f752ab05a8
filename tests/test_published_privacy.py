"""Nothing personal and nothing internal in anything published.

A month is run end to end on the local target with personal values and internal details planted
where they used to leak: cédulas in a rejected planilla's findings (a malformed one, a repeated
key), a masked cédula and an omitted name in a published item's conversion examples, a database
on a real PostgreSQL server that refuses the database name (host, port and user in the error), a
document kept as a local file, and a working folder whose name must never be seen. Every file of
the local catalog and of the compliance report is then read (CSV, JSON, HTML, Markdown, the XML
inside each XLSX) and none of the planted values may appear; the local ledger keeps the detail.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import zipfile
from pathlib import Path

import pytest
from institutions import write_institution

from transparencia.domain import Period, Severity
from transparencia.flows.release import run_release
from transparencia.publishers.public import describe_source, scrub
from transparencia.schemas import load_catalog
from transparencia.sources.demo import Banner, sample_frame, write_xlsx
from transparencia.sources.extraction import SourceRef

pytestmark = pytest.mark.prefect
PERIOD = "2025-01"
CATALOG = load_catalog()

BAD_CEDULA = "8-123-4567-9"  # malformed: a finding quotes it
REPEATED_CEDULA = "8-222-3333"  # twice with the same post: a duplicate-key finding quotes it
SPACED_CEDULA = "8 765 4321"  # normalised to 8-765-4321: a conversion example quotes both
OMITTED_NAME = "Zacarías Planted"  # gastos de representación: nombre is omitted by the configuration
# A table that does not exist: the database answers pre-flight, and the query fails mid-run
DATABASE = "contabilidad_planted_db"

CONFIG = """
institution:
  name: Servicio Nacional de Migración
  acronym: SNM
  organization: snm-privacidad
inbox: .
data_dir: .
publish:
  target: local
  local_dir: published
  formats: [csv, xlsx, json, parquet]
privacy:
  planilla: {{cedula: mask}}
  gastos-representacion: {{cedula: mask, nombre: omit}}
directorates:
  - id: rrhh
    name: Dirección de Recursos Humanos
    sources:
      - id: rrhh-planilla
        type: file
        path: inbox/{{period}}/rrhh/planilla*.xlsx
        items:
          planilla: {{sheet: Planilla}}
          gastos-representacion: {{sheet: Gastos}}
  - id: finanzas
    name: Dirección de Finanzas
    sources:
      - id: finanzas-db
        type: database
        url: postgresql://postgres@127.0.0.1:5432/postgres
        items:
          ejecucion-presupuestaria:
            query: SELECT * FROM {database} WHERE fecha >= :period_start AND fecha < :period_end
documents:
  - item: reglamento-interno
    path: {document}
    updated: 2025-01-10
"""


def _workbook(folder: Path) -> Path:
    planilla, gastos = CATALOG.get("planilla").table_schema(), CATALOG.get("gastos-representacion").table_schema()
    rows = sample_frame(planilla, Period.parse(PERIOD), 8)
    rows.loc[1, "cedula"] = BAD_CEDULA
    rows.loc[2, "cedula"] = rows.loc[3, "cedula"] = REPEATED_CEDULA
    rows.loc[3, "cargo"] = rows.loc[2, "cargo"]
    expenses = sample_frame(gastos, Period.parse(PERIOD), 6)
    expenses.loc[0, "cedula"] = SPACED_CEDULA
    expenses.loc[1, "nombre"] = f"  {OMITTED_NAME}  "  # trimmed: a conversion example quotes it
    banner = Banner("Servicio Nacional de Migración", "", Period.parse(PERIOD), dt.date(2025, 2, 3), "Dirección de Recursos Humanos")
    return write_xlsx([("Planilla", planilla, rows), ("Gastos", gastos, expenses)],
                      folder / "inbox" / PERIOD / "rrhh" / "planilla_enero_2025.xlsx", banner)


def _published_texts(*roots: Path) -> dict[str, str]:
    """Every published file as text; an XLSX is the text of the XML parts inside it."""
    import pandas as pd

    texts = {}
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if path.suffix == ".xlsx":
                with zipfile.ZipFile(path) as book:
                    texts[str(path)] = "".join(book.read(n).decode("utf-8") for n in book.namelist())
            elif path.suffix == ".parquet":
                texts[str(path)] = pd.read_parquet(path).to_csv()
            else:
                texts[str(path)] = path.read_text(encoding="utf-8-sig")
    return texts


def test_no_published_artefact_carries_personal_values_or_internal_details(prefect_server, tmp_path):
    home = tmp_path / "secreto-interno-oficina"
    home.mkdir()
    _workbook(home)
    document = home / "documentos" / "reglamento.pdf"
    document.parent.mkdir()
    document.write_bytes(b"%PDF-1.4\n")
    config = write_institution(home, CONFIG.format(database=DATABASE, document=document))

    result = run_release(Period.parse(PERIOD), config, target="local")

    statuses = {i.code: i.status for i in result.items}
    assert statuses["11.3"] == "rechazado" and statuses["11.4"] in ("publicado", "publicado_con_advertencias")
    assert statuses["10.2"] == "error_fuente"  # a query that fails is the source's error, not a rejection
    texts = _published_texts(home / "published", home / "reports")
    assert any(p.endswith("informe-cumplimiento-2025-01.html") for p in texts)
    assert any("informe-validacion" in p for p in texts)
    planted = [BAD_CEDULA, REPEATED_CEDULA, SPACED_CEDULA, "8-765-4321", OMITTED_NAME, "Zacarías",
               str(tmp_path), "secreto-interno", "file://", "127.0.0.1", "5432", "postgres@", DATABASE,
               "postgresql", "/raw/", "inbox/"]
    leaks = {(needle, Path(path).name) for path, text in texts.items() for needle in planted if needle in text}
    assert not leaks

    report = json.loads(Path(result.report_paths["json"]).read_text(encoding="utf-8"))
    items = {i["code"]: i for i in report["items"]}
    assert items["10.2"]["detail"].endswith("falló la consulta a la base de datos.")
    assert items["11.3"]["source"] == "archivo planilla_enero_2025.xlsx (hoja 'Planilla') de la Dirección de Recursos Humanos"
    masked = [f for f in items["11.3"]["findings"] if f["rule"] == "cedula"]
    assert masked and masked[0]["value"] != BAD_CEDULA and masked[0]["value"] in masked[0]["message"]
    regulation = items[CATALOG.get("reglamento-interno").code]
    assert regulation["url"] is None and regulation["source"] == "archivo reglamento.pdf"
    ledger = Path(result.ledger_path).read_text(encoding="utf-8")
    assert "127.0.0.1" in ledger and DATABASE in ledger  # the detail stays on the machine


def test_sources_are_described_in_public_terms():
    assert describe_source(SourceRef("file", "/srv/entradas/2025-01/rrhh/planilla_enero_2025.xlsx", None,
                                     "Dirección de Recursos Humanos")) == \
        "archivo planilla_enero_2025.xlsx de la Dirección de Recursos Humanos"
    assert describe_source(SourceRef("database", "postgresql://lector:***@10.0.0.5:5432/siafpa", None,
                                     "Dirección de Finanzas")) == "base de datos de la Dirección de Finanzas"
    assert describe_source(SourceRef("file", r"C:\Datos\compras.csv", None, "Departamento de Compras")) == \
        "archivo compras.csv del Departamento de Compras"


@pytest.mark.parametrize(("text", "public"), [
    ("no se pudo abrir '/home/oficial/entradas/raw/2025-01/rrhh/planilla.r2.xlsx'", "no se pudo abrir 'planilla.r2.xlsx'"),
    ("enlace file:///tmp/x/reglamento.pdf", "enlace [dirección interna omitida]"),
    ("base postgresql+psycopg://postgres@127.0.0.1:5432/test caída", "base [dirección interna omitida] caída"),
    ('connection to server at "10.0.0.5", port 5432 failed', 'connection to server at "[dirección interna omitida]", port 5432 failed'),
    ("servidor db.finanzas.local:5432 no responde", "servidor [dirección interna omitida] no responde"),
    ("fechas dd/mm/aaaa, montos B/. 1.250.000.000", "fechas dd/mm/aaaa, montos B/. 1.250.000.000"),
])
def test_scrub_removes_addresses_and_paths_but_not_ordinary_text(text, public):
    assert scrub(text) == public


def test_a_masked_key_part_is_masked_in_the_value_and_the_message():
    from transparencia.publishers.public import public_finding
    from transparencia.validation.findings import Finding

    schema = CATALOG.get("planilla").table_schema()
    finding = Finding("duplicate-key", Severity.ERROR, "La clave (Período, Cédula, Cargo) = (2025-01, 8-222-3333, Jefe) "
                      "se repite en más de una fila.", "periodo, cedula, cargo", 7, "2025-01, 8-222-3333, Jefe",
                      "/srv/x/planilla.xlsx", "Planilla",
                      {"key": "Período, Cédula, Cargo", "parts": ("2025-01", "8-222-3333", "Jefe")})
    rules = schema.treatments({"cedula": "mask"})
    public = public_finding(finding, schema, rules)
    assert public["value"] == "2025-01, 8-***-3333, Jefe"
    assert public["message"] == "La clave (Período, Cédula, Cargo) = (2025-01, 8-***-3333, Jefe) se repite en más de una fila."
    assert public["file"] == "planilla.xlsx"
    omitted = public_finding(dataclasses.replace(finding, column="cedula", value="8-222-3333", params={}),
                             schema, schema.treatments({"cedula": "omit"}))
    assert omitted["value"] is None and "8-222-3333" not in omitted["message"]
