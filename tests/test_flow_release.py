"""The monthly release flow end to end on the local target, against a real temporary Prefect server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from institutions import sample_institution
from test_datapackage import assert_valid_package
from typer.testing import CliRunner

from transparencia.cli import app
from transparencia.domain import Period
from transparencia.flows.progress import Step
from transparencia.flows.release import run_release
from transparencia.flows.store import MonthStore
from transparencia.reports.compliance import ComplianceReport
from transparencia.sources.config import load_config
from transparencia.sources.demo import write_month

pytestmark = pytest.mark.prefect


@pytest.fixture
def institution(tmp_path) -> Path:
    return sample_institution(tmp_path)


def _statuses(result) -> dict[str, str]:
    return {i.code: i.status for i in result.items}


def _flow_state(flow_run_id: str) -> tuple[str, str, str]:
    """The flow run's final state: its type, name and message."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(flow_run_id).state
        return state.type.value, state.name, state.message


def _published_files(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".")}


def test_demo_month_on_local_target(prefect_server, institution):
    config = load_config(institution)
    write_month(config, Period(2025, 1))
    result = run_release(Period.parse("2025-01"), institution, target="local")

    statuses = _statuses(result)
    assert len(statuses) == 24
    assert statuses["11.3"] == "publicado"
    assert statuses["11.6"] == "rechazado"  # monto ≠ días × tarifa and regreso before salida
    assert statuses["10.2"] == "publicado_con_advertencias"  # from the SQLite database source
    assert statuses["10.5"] == "faltante"  # compras sent nothing
    compras = next(i for i in result.items if i.code == "10.5")
    assert "no llegó el archivo del período 2025-01" in compras.detail
    assert str(institution.parent) not in compras.detail  # no server path in a published report
    assert result.exit_code == 1
    # a month with items missing or rejected is an expected outcome: Completed, named and said in Spanish
    assert _flow_state(result.flow_run_id) == ("COMPLETED", "Incompleto",
                                               "21 de 24 puntos cumplidos: hay puntos que no se publicaron")

    viaticos = next(i for i in result.items if i.code == "11.6")
    assert {f["rule"] for f in viaticos.findings} >= {"amount-product", "date-order"}
    store = MonthStore(config.data_dir / "store", config.institution.organization)
    assert store.months("planilla") == [Period(2025, 1)]
    assert store.months("viaticos") == []  # a rejected month is never stored
    assert any((config.publish.local_dir / config.institution.organization).glob("snm-planilla/*.csv"))
    assert not (config.publish.local_dir / config.institution.organization / "snm-viaticos").exists()

    report = json.loads(Path(result.report_paths["json"]).read_text(encoding="utf-8"))
    assert statuses["10.2p"] == "vencido"  # a yearly document last updated in 2023
    assert statuses["O.2"] == "publicado" and statuses["9.1"] == "publicado"
    assert report["summary"]["headline"] == "21 de 24 puntos cumplidos"
    directorates = {i["code"]: i["directorate"] for i in report["items"]}
    assert directorates["9.1"] == "Asesoría Legal" and directorates["11.3"] == "Dirección de Recursos Humanos"
    assert (config.publish.local_dir / config.institution.organization / "snm-informe-cumplimiento").is_dir()

    ledger = json.loads(Path(result.ledger_path).read_text(encoding="utf-8"))
    assert ledger["flow_run_id"] == result.flow_run_id
    assert ledger["items"]["11.6"]["status"] == "rechazado"
    assert ledger["inputs"] and all(len(i["sha256"]) == 64 for i in ledger["inputs"])
    assert "token" not in json.dumps(ledger).lower()


def test_rerunning_a_month_changes_nothing(prefect_server, institution):
    config = load_config(institution)
    write_month(config, Period(2025, 1), errors=False, missing=())
    first = run_release(Period.parse("2025-01"), institution, target="local")
    assert first.exit_code == 0 and first.writes > 0
    before = _published_files(config.publish.local_dir)

    second = run_release(Period.parse("2025-01"), institution, target="local")
    assert second.writes == 0
    assert _published_files(config.publish.local_dir) == before
    assert _flow_state(second.flow_run_id)[0] == "COMPLETED"


def test_rejected_month_keeps_earlier_months(prefect_server, institution):
    config = load_config(institution)
    write_month(config, Period(2025, 1), errors=False, missing=())
    assert run_release(Period.parse("2025-01"), institution, target="local").exit_code == 0
    write_month(config, Period(2025, 2))  # viáticos with errors, compras missing
    second = run_release(Period.parse("2025-02"), institution, target="local")
    assert _statuses(second)["11.6"] == "rechazado" and _statuses(second)["10.5"] == "faltante"

    store = MonthStore(config.data_dir / "store", config.institution.organization)
    assert store.months("viaticos") == [Period(2025, 1)]
    assert store.months("planilla") == [Period(2025, 1), Period(2025, 2)]
    dataset = config.publish.local_dir / config.institution.organization / "snm-viaticos"
    assert any(dataset.glob("*2025-01*")) and not any(dataset.glob("*2025-02*"))


def test_a_failed_rerun_keeps_what_is_online_and_each_bar_ends_with_its_status(prefect_server, institution):
    config = load_config(institution)
    write_month(config, Period(2025, 1), errors=False, missing=())
    first = run_release(Period.parse("2025-01"), institution, target="local")
    assert first.exit_code == 0 and _statuses(first)["10.5"] == "publicado"
    write_month(config, Period(2025, 1), errors=False)  # compras' file is gone this time: its month stays online
    events = []
    second = run_release(Period.parse("2025-01"), institution, target="local", progress=events.append)

    compras = next(i for i in second.items if i.code == "10.5")
    assert compras.status == "publicado" and compras.attempt_failed  # the report agrees with what is online
    assert "sigue en línea" in compras.detail and "no llegó el archivo" in compras.detail
    assert ComplianceReport.from_dict(second.report).fulfilled == ComplianceReport.from_dict(first.report).fulfilled
    assert second.exit_code == 1  # the attempt failed: the run says so
    finals = {e.code: e for e in events if e.step is Step.FINAL}
    assert set(finals) == set(second.due) - {d.item for d in config.documents}
    assert finals["10.5"].status == "publicado" and finals["10.5"].attempt_failed and finals["10.5"].reason
    assert finals["11.3"].status == "publicado" and not finals["11.3"].reason
    steps = [e.step for e in events if e.code == "11.3"]
    assert steps == [Step.EXTRACTED, Step.VALIDATED, Step.PUBLISHED, Step.FINAL]


def test_dask_task_runner_gives_the_same_month(prefect_server, institution):
    config = load_config(institution)
    write_month(config, Period(2025, 1), rows=5)
    result = run_release(Period.parse("2025-01"), institution, target="local", dry_run=True, runner="dask")
    statuses = _statuses(result)
    assert statuses["11.6"] == "rechazado" and statuses["10.5"] == "faltante" and statuses["11.3"] == "publicado"
    assert not (config.data_dir / "store").exists()  # dry run: nothing stored


def test_cli_exit_codes(prefect_server, institution):
    runner = CliRunner()
    bad = runner.invoke(app, ["run", "--period", "2025-13", "--config", str(institution)])
    assert bad.exit_code == 2 and "AAAA-MM" in bad.output
    config = load_config(institution)
    write_month(config, Period(2025, 3), rows=5)
    done = runner.invoke(app, ["run", "--period", "2025-03", "--config", str(institution)])
    assert done.exit_code == 1, done.output
    assert "puntos cumplidos" in done.output and "Rechazado" in done.output
    md = runner.invoke(app, ["report", "--period", "2025-03", "--format", "md", "--config", str(institution)])
    assert md.exit_code == 0 and "puntos cumplidos" in md.output


def test_demo_command_succeeds_with_its_deliberate_errors(prefect_server, institution):
    result = CliRunner().invoke(app, ["demo", "--period", "2025-04", "--config", str(institution)])
    assert result.exit_code == 0, result.output
    assert "21 de 24 puntos cumplidos" in result.output
    assert "errores a propósito" in result.output
    assert (institution.parent / "published" / "index.html").is_file()

    # two months, so the second shows what changed
    published = institution.parent / "published" / "servicio-nacional-de-migracion"
    changes = json.loads((published / "snm-planilla" / "planilla-2025-04-cambios.json").read_text(encoding="utf-8"))
    assert changes["previous_period"] == "2025-03"
    kinds = [c["kind"] for c in changes["changes"]]
    assert kinds.count("alta") >= 1 and kinds.count("baja") >= 1
    assert any(c["kind"] == "cambio" and c["field"] == "Salario mensual (B/.)" for c in changes["changes"])
    page = (published / "snm-planilla" / "index.html").read_text(encoding="utf-8")
    assert "Altas (personas que entraron)" in page and 'src="planilla-grafico.svg"' in page

    report = json.loads((institution.parent / "reports" / "2025-04" / "informe-cumplimiento-2025-04.json")
                        .read_text(encoding="utf-8"))
    assert report["summary"]["antai"] == {"percentage": 88, "band": "debe-mejorar",
                                          "band_label": "Dentro del rango, debe mejorar (67 %–99 %)"}
    assert report["history"] == [{"period": "2025-03", "fulfilled": 21, "applicable": 24}]
    planilla = next(i for i in report["items"] if i["code"] == "11.3")
    assert planilla["changes"].startswith("Respecto a 2025-03: ")
    assert "88 %" in result.output

    packages = sorted(published.glob("*/datapackage.json"))
    # every published tabular item (viáticos is rejected, contrataciones missing) and the compliance report
    assert len(packages) == 13
    for package in packages:
        assert_valid_package(package)


def test_a_missing_database_password_exits_2_before_anything_public_is_written(prefect_server, tmp_path, monkeypatch):
    monkeypatch.delenv("MIDA_FINANZAS_PASSWORD", raising=False)
    config = tmp_path / "institution.yaml"
    config.write_text(MISSING_SECRET_CONFIG, encoding="utf-8")
    outcome = CliRunner().invoke(app, ["run", "--period", "2025-01", "--config", str(config)])
    assert outcome.exit_code == 2, outcome.output
    assert "MIDA_FINANZAS_PASSWORD" in outcome.output  # the officer is told which variable
    assert not (tmp_path / "reports").exists() and not (tmp_path / "published").exists()


def _public_bytes(root: Path) -> dict[str, bytes]:
    """Every public file (the local catalog and the compliance reports), byte for byte."""
    return {str(p.relative_to(root)): p.read_bytes() for folder in ("published", "reports")
            for p in sorted((root / folder).rglob("*")) if p.is_file()}


@pytest.mark.databases
def test_an_unreadable_database_or_an_ambiguous_file_exits_2_and_leaves_the_published_month_as_it_was(
        prefect_server, institution):
    """A month is online; a re-run whose database cannot be read (an unknown database, a server that
    refuses) or whose file pattern matches two files stops at pre-flight with exit 2: the compliance
    report keeps the month's rows, link and date, byte for byte."""
    config = load_config(institution)
    write_month(config, Period(2025, 1), rows=5)
    runner = CliRunner()
    first = runner.invoke(app, ["run", "--period", "2025-01", "--config", str(institution)])
    assert first.exit_code == 1, first.output  # the demo month's deliberate errors
    online = _public_bytes(institution.parent)
    sqlite = "url: sqlite:///inbox/finanzas/contabilidad.sqlite"
    text = institution.read_text(encoding="utf-8")
    broken = {
        "postgresql://postgres@127.0.0.1:5432/no_existe_esta_base": "la base de datos indicada no existe",
        "mysql://root@127.0.0.1:1/siafpa": "el servidor rechazó la conexión",
    }
    for url, reason in broken.items():
        institution.write_text(text.replace(sqlite, f"url: {url}"), encoding="utf-8")
        outcome = runner.invoke(app, ["run", "--period", "2025-01", "--config", str(institution)])
        assert outcome.exit_code == 2 and reason in " ".join(outcome.output.split()), outcome.output
        assert "en espera" not in outcome.output  # stopped before Prefect started and the bars were shown
        assert _public_bytes(institution.parent) == online
    institution.write_text(text, encoding="utf-8")
    planilla = next((institution.parent / "inbox" / "2025-01" / "rrhh").glob("planilla*.xlsx"))
    planilla.with_name("planilla copia.xlsx").write_bytes(planilla.read_bytes())
    outcome = runner.invoke(app, ["run", "--period", "2025-01", "--config", str(institution)])
    assert outcome.exit_code == 2 and "hay 2 archivos que coinciden" in " ".join(outcome.output.split())
    assert _public_bytes(institution.parent) == online


MISSING_SECRET_CONFIG = """
institution: {name: Ministerio de Desarrollo Agropecuario, acronym: MIDA, organization: mida-secreto}
inbox: .
data_dir: .
publish: {target: local, local_dir: published}
directorates:
  - id: finanzas
    name: Dirección de Finanzas
    sources:
      - id: finanzas-db
        type: database
        url: postgresql://lector@127.0.0.1:5432/siafpa
        password_env: MIDA_FINANZAS_PASSWORD
        items:
          ejecucion-presupuestaria:
            query: SELECT * FROM ejecucion WHERE fecha >= :period_start AND fecha < :period_end
"""


def _snapshot(root: Path, leave_out: Path) -> dict[str, bytes]:
    """Every file under ``root`` but those under ``leave_out``, byte for byte."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and leave_out not in p.parents}


def test_a_dry_run_writes_only_its_preview(prefect_server, institution):
    """--dry-run after a published month: the whole data folder (the store, the catalog, the raw
    archive, the ledgers, the validation memo) stays byte for byte; the preview folder holds a report
    the officer can open, named at the end; the run says "se publicaría", never "publicado"."""
    config = load_config(institution)
    write_month(config, Period(2025, 1), rows=5)
    runner = CliRunner()
    assert runner.invoke(app, ["run", "--period", "2025-01", "--config", str(institution)]).exit_code == 1
    write_month(config, Period(2025, 2), rows=5)
    preview = config.workspace.preview(Period(2025, 2))
    before = _snapshot(institution.parent, preview)

    dry = runner.invoke(app, ["run", "--period", "2025-02", "--config", str(institution), "--dry-run"])
    assert dry.exit_code == 1, dry.output
    assert _snapshot(institution.parent, preview) == before
    text = " ".join(dry.output.split())
    assert "se publicaría" in text and "Vista previa" in text and "publicado (" not in text
    page = preview / "informe-cumplimiento-2025-02.html"
    assert str(page) in text.replace(" ", "") or str(page) in dry.output.replace("\n", "")
    assert "Vista previa (simulación con --dry-run)" in page.read_text(encoding="utf-8")
    assert (preview / config.institution.organization / "planilla").is_dir()  # the rendered files, to look at
