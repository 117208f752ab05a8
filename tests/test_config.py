"""The institution configuration: the sample loads, and every mistake is named in Spanish."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
from institutions import SAMPLE, sample_document, write_institution

from transparencia.domain import Period
from transparencia.domain.period import fill_placeholders
from transparencia.errors import ConfigError
from transparencia.sources.config import load_config
from transparencia.sources.secrets import mask_url, resolve_secret, url_has_password


@pytest.fixture
def sample_doc() -> dict:
    return sample_document()


def error_for(tmp_path: Path, doc: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(write_institution(tmp_path, doc))
    return caught.value.message


def test_sample_loads_with_five_directorates_and_their_sources():
    config = load_config(SAMPLE)
    assert config.institution.organization == "servicio-nacional-de-migracion"
    assert config.institution.license_id == "cc-zero"
    assert {"rrhh", "finanzas", "compras", "planificacion", "informacion"} <= {d.id for d in config.directorates}
    planilla_source = config.source("rrhh-planilla")
    assert planilla_source.directorate == "rrhh"
    assert planilla_source.directorate_name == "Dirección de Recursos Humanos"
    assert planilla_source.items["11.3"].sheet == "Planilla"  # referenced by slug, stored by code
    assert config.source("finanzas-db").type == "database"
    assert all(s in config.sources for d in config.directorates for s in d.sources)
    assert config.base_dir == SAMPLE.parent
    assert config.publish.local_dir == SAMPLE.parent / "published"
    documents = {i.code for i in config.catalog if i.kind == "document"}
    assert {d.item for d in config.documents} == documents  # every document item is configured


def test_privacy_applies_schema_defaults_then_overrides(tmp_path, sample_doc):
    sample_doc["privacy"] = {"11.3": {"cedula": "omit"}}
    config = load_config(write_institution(tmp_path, sample_doc))
    schema = config.catalog.get("planilla").table_schema()
    policies = schema.treatments(config.privacy.get("11.3", {}))
    assert policies["cedula"] == "omit"
    assert policies["salario_mensual"] == "publish"
    assert schema.treatments(load_config(SAMPLE).privacy.get("11.3", {}))["cedula"] == "mask"


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["directorates"][1]["sources"][1].update(pth="x"),
     "institution.yaml: directorates[1].sources[1]: clave desconocida 'pth' (¿quiso decir 'path'?)"),
    (lambda d: d.update(directorate=[]),
     "institution.yaml: clave desconocida 'directorate' (¿quiso decir 'directorates'?)"),
    (lambda d: d["institution"].pop("organization"),
     "institution.yaml: institution: falta la clave obligatoria 'organization'"),
    (lambda d: d["institution"].update(organisation="snm"),
     "clave desconocida 'organisation' (¿quiso decir 'organization'?)"),
    (lambda d: d["directorates"][0]["sources"][0].update(type="excel"),
     "directorates[0].sources[0].type: tipo de fuente desconocido 'excel'"),
    (lambda d: d["directorates"][0]["sources"][0]["items"].update(planila={}),
     "directorates[0].sources[0].items.planila: Punto desconocido 'planila'"),
    (lambda d: d["directorates"][0]["sources"][0]["items"]["planilla"].update(hoja="X"),
     "directorates[0].sources[0].items.planilla: clave desconocida 'hoja'"),
    (lambda d: d["directorates"][0]["sources"][0].update(path="inbox/{periodo}/x.xlsx"),
     "directorates[0].sources[0].path: marcador desconocido '{periodo}'"),
    (lambda d: d["directorates"][1]["sources"][0]["items"]["ejecucion-presupuestaria"].update(
        query="SELECT * FROM t WHERE mes = '{period}'"),
     "items.ejecucion-presupuestaria.query: no use '{period'"),
    (lambda d: d["directorates"][1]["sources"][0]["items"]["ejecucion-presupuestaria"].update(
        query="SELECT * FROM t"),
     "la consulta debe usar :period_start"),
    (lambda d: d["directorates"][1]["sources"][0].update(url="postgresql://lector:secreto@db/siafpa"),
     "la contraseña no puede ir en el archivo (postgresql://lector:***@db/siafpa)"),
    (lambda d: d["directorates"][1]["sources"][0].update(url_env="FINANZAS_DB_URL"),
     "indique uno solo de 'url', 'url_env' o 'url_file' (tiene: url, url_env)"),
    (lambda d: d["directorates"][1]["sources"][0].update(chunk_size="mucho"),
     "directorates[1].sources[0].chunk_size: se esperaba un número entero, no 'mucho'"),
    (lambda d: d["directorates"][1]["sources"][1]["items"].update(planilla={}),
     "items.planilla: el punto 11.3 ya lo alimenta la fuente 'rrhh-planilla'"),
    (lambda d: d["directorates"][2].update(id="rrhh"),
     "directorates[2].id: la dirección 'rrhh' está repetida"),
    (lambda d: d["directorates"][2]["sources"][0].update(id="rrhh-planilla"),
     "la fuente 'rrhh-planilla' está repetida"),
    (lambda d: d["publish"].update(target="ftp"),
     "publish.target: 'ftp' inválido"),
    (lambda d: d["publish"].update(formats=["csv", "pdf"]),
     "publish.formats[1]: formato 'pdf' desconocido"),
    (lambda d: d["publish"].update(public_url="file:///srv/datos"),
     "publish.public_url: 'file:///srv/datos' no es una dirección web (https://…) donde se publica el catálogo"),
    (lambda d: d["publish"]["ckan"].update(token="abc123"),
     "publish.ckan: clave desconocida 'token' (¿quiso decir 'token_env'?)"),
    (lambda d: d["publish"].update(review="sí"),
     "publish.review: se esperaba true o false, no 'sí'"),
    (lambda d: d["publish"].update(review_timeout=0),
     "publish.review_timeout: se esperaba un número de minutos mayor que cero, no '0'"),
    (lambda d: d["publish"].update(review_timeout="un día"),
     "publish.review_timeout: se esperaba un número de minutos mayor que cero, no 'un día'"),
    (lambda d: d["publish"].update(reviw=True),
     "publish: clave desconocida 'reviw' (¿quiso decir 'review'?)"),
    (lambda d: d["privacy"]["planilla"].update(cedula="esconder"),
     "privacy.planilla.cedula: política 'esconder' inválida"),
    (lambda d: d["privacy"]["planilla"].update(cedla="mask"),
     "privacy.planilla: clave desconocida 'cedla' (¿quiso decir 'cedula'?)"),
    (lambda d: d["documents"][0].update(updated="10/01/2025"),
     "documents[0].updated: se esperaba una fecha AAAA-MM-DD, no '10/01/2025'"),
    (lambda d: d["documents"].append({"item": "planilla", "url": "https://x"}),
     "documents[10].item: el punto 11.3 (Planilla) tiene datos tabulares"),
    (lambda d: d["directorates"][0]["sources"][0]["items"].update(organigrama={}),
     "el punto 9.5 (Organigrama y estructura organizativa) es un documento"),
    (lambda d: d["directorates"][0]["sources"][0].pop("type"),
     "directorates[0].sources[0]: falta la clave obligatoria 'type'"),
    (lambda d: d.update(privacy=["planilla"]),
     "institution.yaml: privacy: se esperaba 'punto: {campo: política}'"),
])
def test_each_mistake_is_named_in_spanish(tmp_path, sample_doc, mutate, expected):
    doc = copy.deepcopy(sample_doc)
    mutate(doc)
    assert expected in error_for(tmp_path, doc)


def test_the_configuration_loader_and_the_connector_registry_import_without_a_cycle():
    """sources.config imports the registry at the top; the registry, the database connector and
    the secrets never import the configuration back (they see its types only when type-checking)."""
    import subprocess
    import sys

    for module in ("registry", "database", "secrets"):
        code = (f"import transparencia.sources.{module}, sys; "
                f"sys.exit('transparencia.sources.config' in sys.modules)")
        assert subprocess.run([sys.executable, "-c", code]).returncode == 0, module


def test_masking_a_number_is_a_configuration_error_at_load_not_a_failed_month(tmp_path, sample_doc):
    """It once passed loading and failed mid-run, showing the item as missing."""
    sample_doc["privacy"]["planilla"]["salario_mensual"] = "mask"
    message = error_for(tmp_path, sample_doc)
    assert message.startswith("institution.yaml: privacy.planilla: ")
    assert "'salario_mensual' es de tipo 'number' y solo se pueden enmascarar campos de texto" in message


def test_a_never_field_cannot_be_overridden(tmp_path, sample_doc):
    sample_doc["privacy"]["solicitudes-informacion"] = {"nombre_solicitante": "mask"}
    message = error_for(tmp_path, sample_doc)
    assert "privacy.solicitudes-informacion.nombre_solicitante" in message
    assert "nunca se publica" in message


def test_broken_yaml_names_the_line(tmp_path):
    path = tmp_path / "institution.yaml"
    path.write_text("institution:\n  name: [sin cerrar\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"institution.yaml: el YAML no es válido \(línea \d+\)"):
        load_config(path)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="No existe el archivo de configuración"):
        load_config(tmp_path / "no-existe.yaml")


def test_secrets_are_resolved_at_use_and_never_shown(tmp_path, sample_doc, monkeypatch):
    source = sample_doc["directorates"][1]["sources"][0]
    source.pop("url")
    source["url_env"] = "TEST_FINANZAS_URL"
    sample_doc["publish"]["ckan"] = {"url": "http://ckan.local", "token_file": "secrets/ckan.token"}
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "ckan.token").write_text("tok-SECRETO-123\n", encoding="utf-8")
    monkeypatch.setenv("TEST_FINANZAS_URL", "postgresql://lector:clave-SECRETA@127.0.0.1/siafpa")
    config = load_config(write_institution(tmp_path, sample_doc))
    assert "clave-SECRETA" not in repr(config)
    assert "tok-SECRETO-123" not in repr(config)
    assert config.publish.ckan.resolve_token() == "tok-SECRETO-123"
    settings = config.source("finanzas-db").settings
    url = settings.resolve_url(config.base_dir, "prueba")
    assert url.password == "clave-SECRETA"
    assert url.drivername == "postgresql+psycopg"
    assert "clave-SECRETA" not in repr(url) and "clave-SECRETA" not in str(url)


def test_resolve_secret_says_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.delenv("NO_DEFINIDA", raising=False)
    with pytest.raises(ConfigError, match="la variable de entorno NO_DEFINIDA no está definida"):
        resolve_secret(env="NO_DEFINIDA", what="fuente 'finanzas-db'")
    with pytest.raises(ConfigError, match="no se puede leer el archivo de secreto"):
        resolve_secret(file=tmp_path / "nada.txt", what="fuente 'finanzas-db'")


def test_mask_url_hides_only_the_password():
    assert mask_url("postgresql://user:p@ss:w0rd@host:5432/db") == "postgresql://user:***@host:5432/db"
    assert mask_url("mysql+pymysql://root@127.0.0.1/x") == "mysql+pymysql://root@127.0.0.1/x"
    assert mask_url("sqlite:///data/x.sqlite") == "sqlite:///data/x.sqlite"


@pytest.mark.parametrize(("url", "masked"), [
    ("postgresql://user@host/db?password=s3cr3t&sslmode=require", "postgresql://user@host/db?password=***&sslmode=require"),
    ("mssql+pyodbc://host/db?driver=ODBC+18&PWD=Secreto%21", "mssql+pyodbc://host/db?driver=ODBC+18&PWD=***"),
    ("mssql+pyodbc:///?odbc_connect=DRIVER%3DX%3BUID%3Dsa%3BPWD%3Dclave%3BDATABASE%3Dd",
     "mssql+pyodbc:///?odbc_connect=DRIVER%3DX%3BUID%3Dsa%3BPWD%3D***%3BDATABASE%3Dd"),
    ("mysql://u@h/d?passwd=x;charset=utf8", "mysql://u@h/d?passwd=***;charset=utf8"),
    ("postgresql://u:p@h/d?token=abc", "postgresql://u:***@h/d?token=***"),
])
def test_mask_url_hides_secrets_given_as_query_parameters(url, masked):
    assert mask_url(url) == masked
    assert url_has_password(url)


def test_the_public_url_of_the_local_catalog_is_kept_as_a_folder_address(tmp_path, sample_doc):
    sample_doc["publish"]["public_url"] = "https://datos.migracion.gob.pa/transparencia"
    assert load_config(write_institution(tmp_path, sample_doc)).publish.public_url == \
        "https://datos.migracion.gob.pa/transparencia/"
    assert load_config(SAMPLE).publish.public_url is None


def test_period_is_a_half_open_month():
    period = Period.parse("2024-12")
    assert (period.start, period.end) == (dt.date(2024, 12, 1), dt.date(2025, 1, 1))
    assert Period.parse("2024-02").end == dt.date(2024, 3, 1)
    assert fill_placeholders("inbox/{period}/{year}/{month}/p*.xlsx", period, "x") == "inbox/2024-12/2024/12/p*.xlsx"
    with pytest.raises(ConfigError, match="Período inválido '2024-13'"):
        Period.parse("2024-13")


def test_directorate_names_come_from_the_configuration_then_the_catalog():
    config = load_config(SAMPLE)
    assert config.directorate_name("rrhh") == "Dirección de Recursos Humanos"  # configured
    assert config.directorate_name("legal") == "Asesoría Legal"  # only in the catalog
    assert config.directorate_name("desconocida") == "desconocida"


def test_period_knows_its_last_day_and_the_month_before_a_date():
    assert Period.parse("2024-02").last_day == dt.date(2024, 2, 29)
    assert str(Period.previous(dt.date(2025, 1, 5))) == "2024-12"
    assert str(Period.previous(dt.date(2025, 3, 31))) == "2025-02"


# --------------------------------------------------------------------------- e-mail


def _with_notifications(doc: dict) -> dict:
    doc["notifications"] = {"smtp": {"host": "correo.institucion.gob.pa", "user": "transparencia",
                                     "password_env": "PRUEBA_SMTP_CLAVE"},
                            "from": "transparencia@migracion.gob.pa", "reminder_days": 2}
    return doc


def test_e_mail_settings_load_and_the_password_is_read_only_when_used(tmp_path, sample_doc, monkeypatch):
    config = load_config(write_institution(tmp_path, _with_notifications(sample_doc)))
    assert config.institution.officer_email == "oficial.transparencia@migracion.gob.pa"
    assert config.directorate("rrhh").contacts == ("planilla@migracion.gob.pa",)
    notifications = config.notifications
    assert notifications.sender == "transparencia@migracion.gob.pa" and notifications.reminder_days == 2
    assert notifications.smtp.security == "starttls" and notifications.smtp.effective_port == 587
    monkeypatch.setenv("PRUEBA_SMTP_CLAVE", "clave-SMTP-secreta")
    assert "clave-SMTP-secreta" not in repr(config)
    assert notifications.smtp.resolve_password() == "clave-SMTP-secreta"


def test_the_smtp_password_file_is_read_from_the_configuration_folder(tmp_path, sample_doc):
    doc = _with_notifications(sample_doc)
    smtp = doc["notifications"]["smtp"]
    smtp.pop("password_env")
    smtp.update(password_file="secretos/smtp", security="tls")
    (tmp_path / "secretos").mkdir()
    (tmp_path / "secretos" / "smtp").write_text("clave-de-archivo\n", encoding="utf-8")
    config = load_config(write_institution(tmp_path, doc))
    assert config.notifications.smtp.resolve_password() == "clave-de-archivo"
    assert config.notifications.smtp.effective_port == 465


def test_without_a_notifications_section_nothing_is_configured_to_be_sent():
    assert load_config(SAMPLE).notifications is None


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["notifications"]["smtp"].update(password="clave-escrita"),
     "notifications.smtp: la contraseña nunca va en el archivo: indique 'password_env'"),
    (lambda d: d["notifications"]["smtp"].update(password_file="x"),
     "notifications.smtp: indique 'password_env' o 'password_file' (uno de los dos)"),
    (lambda d: d["notifications"]["smtp"].pop("password_env"),
     "notifications.smtp: con 'user' hace falta 'password_env' o 'password_file'"),
    (lambda d: d["notifications"]["smtp"].pop("user"),
     "notifications.smtp: falta 'user', el usuario de la contraseña indicada"),
    (lambda d: d["notifications"]["smtp"].update(security="ssl"),
     "notifications.smtp.security: seguridad 'ssl' desconocida; use una de: starttls, tls, none"),
    (lambda d: d["notifications"]["smtp"].update(port=70000),
     "notifications.smtp.port: se esperaba un puerto entre 1 y 65535, no 70000"),
    (lambda d: d["notifications"]["smtp"].update(hots="x"),
     "notifications.smtp: clave desconocida 'hots' (¿quiso decir 'host'?)"),
    (lambda d: d["notifications"].pop("smtp"),
     "notifications: falta la clave obligatoria 'smtp'"),
    (lambda d: d["notifications"].update({"from": "transparencia"}),
     "notifications.from: 'transparencia' no es una dirección de correo válida"),
    (lambda d: d["notifications"].update(reminder_days=30),
     "notifications.reminder_days: se esperaba un número de días entre 0 y 27, no 30"),
    (lambda d: d["notifications"].update(recordatorio=3),
     "notifications: clave desconocida 'recordatorio'"),
    (lambda d: d["institution"].pop("officer_email"),
     "institution: con 'notifications' hace falta 'officer_email'"),
    (lambda d: d["institution"].update(officer_email="oficial@"),
     "institution.officer_email: 'oficial@' no es una dirección de correo válida"),
    (lambda d: d["directorates"][0].update(contacts="planilla@migracion.gob.pa"),
     "directorates[0].contacts: se esperaba una lista de direcciones de correo"),
    (lambda d: d["directorates"][0].update(contacts=["planilla@migracion.gob.pa", "Juan Pérez"]),
     "directorates[0].contacts[1]: 'Juan Pérez' no es una dirección de correo válida"),
    (lambda d: d["directorates"][0].update(email=["planilla@migracion.gob.pa"]),
     "directorates[0]: clave desconocida 'email'"),
])
def test_each_e_mail_mistake_is_named_in_spanish(tmp_path, sample_doc, mutate, expected):
    doc = _with_notifications(sample_doc)
    mutate(doc)
    message = error_for(tmp_path, doc)
    assert expected in message
    assert "clave-escrita" not in message
