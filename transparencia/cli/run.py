"""``transparencia run | report | demo | serve``: the monthly release, its report, the demo, the schedule."""

from __future__ import annotations

import datetime as dt
import signal
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Column, Table

from transparencia.cli import app, console, err_console, friendly_errors, run_hint
from transparencia.domain import ItemStatus, Period, Target
from transparencia.errors import ConfigError, RunInterrupted
from transparencia.flows import notify, server
from transparencia.flows.environment import configure_prefect
from transparencia.flows.ledger import WriteJournal, lease_task, new_run_id
from transparencia.flows.outcome import UNPUBLISHED_HEADER, one_line
from transparencia.flows.progress import STEPS, AwaitingReview, ItemProgress, Step
from transparencia.publishers.backends import publisher
from transparencia.publishers.base import PortalSession
from transparencia.reports.antai import AntaiScore
from transparencia.reports.compliance import (
    REPORT_FORMATS,
    ComplianceReport,
    ItemReport,
    load_report,
    render,
    write_report,
)
from transparencia.sources.config import DEFAULT_CONFIG, InstitutionConfig, load_config
from transparencia.sources.demo import write_month
from transparencia.sources.registry import check_sources, planned_extractions
from transparencia.validation import expectations
from transparencia.wording import count

STATUS_STYLE = {
    ItemStatus.PUBLISHED: "green", ItemStatus.PUBLISHED_WITH_WARNINGS: "yellow", ItemStatus.REJECTED: "red",
    ItemStatus.SOURCE_ERROR: "red", ItemStatus.NOT_RECEIVED: "dark_orange", ItemStatus.NOT_CONFIGURED: "dim",
    ItemStatus.NOT_APPLICABLE: "dim", ItemStatus.OUTDATED: "magenta", ItemStatus.TARGET_ERROR: "red",
    ItemStatus.WITHDRAWN: "dark_orange",
    ItemStatus.WITHHELD: "blue",
}


def _preflight(config: Path, period: Period, target: Target | None, dry_run: bool, review: bool | None,
               run_id: str, held: ExitStack) -> None:
    """Fail within seconds, before Prefect starts and anything is read, when a review has no Prefect
    server to be decided on, a source cannot be read (``check_sources``) or the target has a
    ``PortalSession`` that cannot take the run; then (a real run) take the institution's lease on the
    portal under ``run_id``, held in ``held``: a run that must wait for another one says so, and one
    that cannot have it stops here, before Prefect starts. The flow checks the sources and the portal
    again, for the runs that do not start here (a deployment's), and joins the lease taken here."""
    institution = load_config(config)
    if institution.publish.reviews(review, dry_run):
        configure_prefect(home=institution.workspace.prefect_home)
        _require_prefect_server()
    check_sources(institution, period)
    chosen = publisher(institution, target or institution.publish.target)
    if not isinstance(chosen, PortalSession):
        return
    organization = institution.institution.organization
    chosen.preflight(organization, institution.institution.name, create_organization=not dry_run)
    if not dry_run:
        journal = WriteJournal.for_run(institution.workspace, period, run_id).tagged(tipo="bloqueo")
        held.enter_context(chosen.lease(organization, run_id, lease_task(period), on_write=journal.append,
                                        wait=institution.publish.lease_wait * 60, tell=_tell))


def _tell(message: str) -> None:
    """A line about the portal's lease (waiting for it, a dead holder's lease broken), as it happens."""
    console.print(message, highlight=False, soft_wrap=True)


REVIEW_NEEDS_SERVER = (
    "La revisión antes de publicar se decide en la interfaz de Prefect, y esta ejecución usaría un servidor "
    "Prefect temporal que nadie más puede abrir. Inicie un servidor ('prefect server start') y exporte "
    "PREFECT_API_URL=http://127.0.0.1:4200/api antes de 'transparencia run', o ejecute con --sin-revision.")


def _require_prefect_server() -> None:
    """A run under review waits for a decision given in the Prefect UI or API: it needs a server the
    officer can reach, not the temporary one a run without PREFECT_API_URL starts (and stops) for itself.
    Prefect is imported here: call after ``configure_prefect``."""
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        raise ConfigError(REVIEW_NEEDS_SERVER)


@contextmanager
def _unwind_on_sigterm() -> Iterator[None]:
    """SIGTERM (a service manager stopping the run) unwinds like Ctrl+C instead of killing the process
    on the spot, so the temporary Prefect server is stopped on the way out. While the flow runs,
    Prefect's own handler takes over and the flow ends Cancelled (``flows.release``). The handler found
    is given back at the end: a process that runs the command in its own Python keeps its own."""
    def stop(number: int, _frame: object) -> None:
        raise RunInterrupted(f"Ejecución interrumpida por la señal {signal.Signals(number).name}.", number)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _release(period: Period, config: Path, target: str | None, dry_run: bool, runner: str,
             dask_address: str | None, review: bool | None = None, send_mail: bool = True,
             run_id: str | None = None):
    """Run the flow with one progress bar per item; return the result. ``run_id``: the run whose
    portal lease the pre-flight took."""
    institution = load_config(config)
    configure_prefect(home=institution.workspace.prefect_home)
    server.start()  # a temporary server boots meanwhile on the other core, when none is configured
    from transparencia.flows import release  # imports Prefect, which reads its settings once: after configure_prefect

    planned = [code for _source, code in planned_extractions(institution)]
    _prepare_validation(institution, period, planned)
    progress = item_bars(console)
    bars = {code: progress.add_task("en espera", total=len(STEPS), code=code) for code in planned}

    def show(event: ItemProgress | AwaitingReview) -> None:
        if isinstance(event, AwaitingReview):
            progress.console.print(awaiting_text(event), highlight=False, soft_wrap=True)
        elif event.code in bars:
            progress.update(bars[event.code], **_bar_update(event, dry_run))

    console.print(f"Publicación del período [bold]{period}[/] (iniciando Prefect…)")
    with server.api(), progress:
        return release.run_release(period, config, target=target, dry_run=dry_run, runner=runner,
                                   dask_address=dask_address, progress=show, review=review,
                                   send_mail=send_mail, run_id=run_id)


def _prepare_validation(institution: InstitutionConfig, period: Period, planned: list[str]) -> None:
    """Build the validation suites of the items this run will validate (no report of the month is
    kept yet: ``flows.memo``) while it waits for Prefect's server; a re-run that may reuse its
    reports does not import Great Expectations before it needs it."""
    items = [institution.catalog.get(code) for code in planned]
    workspace = institution.workspace
    expectations.prepare([item.table_schema() for item in items
                          if not workspace.validation_file(item.slug, period).exists()])


def awaiting_text(event: AwaitingReview) -> str:
    """Where and until when the officer decides on the preview; the run waits meanwhile."""
    return (f"[bold]Vista previa lista; nada se publica sin aprobación.[/] Revise y decida en la página de esta "
            f"ejecución en Prefect (botón «Resume»): {event.url}\nLa ejecución espera hasta el "
            f"{event.deadline:%d/%m/%Y} a las {event.deadline:%H:%M} UTC; sin decisión no se publica nada.")


def item_bars(out: Console) -> Progress:
    """One line per item: its code (never squeezed out by a long reason), its bar, then what it did,
    cut at the edge of the terminal (the summary below has each reason in full)."""
    return Progress(TextColumn("{task.fields[code]:>6}", table_column=Column(no_wrap=True, min_width=6)),
                    BarColumn(bar_width=24),
                    TextColumn("{task.description}", table_column=Column(ratio=1, no_wrap=True, overflow="ellipsis")),
                    console=out, transient=False)


def _bar_update(event: ItemProgress, dry_run: bool = False) -> dict:
    """How one event moves an item's bar: a step advances it; the final event fills it with the
    item's status and, when it did not publish, the reason in one line. A dry run publishes nothing:
    its items "se publicarían"."""
    if event.step is Step.EXTRACTED:
        return {"advance": 1, "description": f"extraído ({count(event.rows or 0, 'fila')})"}
    if event.step is Step.VALIDATED:
        return {"advance": 1, "description": f"validado ({count(event.errors or 0, 'error')}, "
                                             f"{count(event.warnings or 0, 'advertencia')})"}
    if event.step is Step.PUBLISHED:
        done = "se publicaría" if dry_run else "publicado"
        return {"advance": 1, "description": f"{done} ({count(event.writes or 0, 'escritura')})"}
    if event.step is Step.PREVIEWED:
        return {"description": f"vista previa, en espera de aprobación ({count(event.writes or 0, 'escritura')} "
                               "si se aprueba)"}
    if event.step is Step.RETRY:
        return {"description": f"[yellow]{retry_text(event)}[/]" + (f": {escape(one_line(event.reason))}"
                                                                     if event.reason else "")}
    assert event.status is not None
    label = f"[{STATUS_STYLE[event.status]}]{event.status.short_label.lower()}[/]"
    if event.status.fulfilled and not event.attempt_failed:
        return {"completed": len(STEPS)}
    return {"completed": len(STEPS), "description": f"{label}: {escape(one_line(event.reason))}"}


def retry_text(event: ItemProgress) -> str:
    """'reintento 2 de 3 en 10 s'."""
    delay = f" en {event.delay:g} s" if event.delay else ""
    return f"reintento {event.retry} de {event.retries}{delay}"


def _summary(result) -> None:

    report = ComplianceReport.from_dict(result.report)
    title = f"{report.institution}: {report.headline} ({result.period})"
    if result.dry_run:
        title = f"Vista previa, no se publicó nada. {report.institution}: {report.headline} si se publicara ({result.period})"
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    # Fits 80 columns: names are cut short, counts never (the report has the links and the detail).
    table.add_column("Punto", no_wrap=True, min_width=5)
    table.add_column("Nombre", max_width=20, no_wrap=True, overflow="ellipsis")
    table.add_column("Estado", no_wrap=True)
    for header in ("Filas", "Err.", "Adv."):
        table.add_column(header, justify="right", no_wrap=True, min_width=len(header))
    for item in report.items:
        style = STATUS_STYLE[item.status]
        table.add_row(item.code, item.name, f"[{style}]{_status_label(item.status, result.dry_run)}[/]",
                      "" if item.rows is None else str(item.rows), str(item.errors), str(item.warnings))
    console.print(table)
    if result.review is not None:
        console.print(f"Revisión antes de publicar: {escape(result.review.sentence)}", highlight=False)
    _reasons(result.unpublished)
    for message in result.errors:
        err_console.print(f"[red]Error:[/] {message}", highlight=False)
    _mail_summary(result.mail)
    if result.observations:
        console.print(f"Observaciones para {count(len(result.observations), 'dirección', 'direcciones')} (su archivo "
                      f"anotado y su carta): {escape(str(result.observations[0].folder.parent))}")
    console.print(f"Registro de la ejecución: {result.ledger_path}")
    if result.dry_run:
        console.print("[yellow]Simulación (--dry-run): no se guardó ni publicó nada.[/] Vista previa del informe "
                      f"(ábrala en el navegador): {result.report_paths.get('html')}")
    else:
        if result.report_paths:
            console.print(f"Informe de cumplimiento: {result.report_paths.get('html')}")
        console.print(f"Escrituras en esta ejecución: {result.writes}")


def _mail_summary(outcome) -> None:
    """What the run e-mailed (or, in a dry run, would e-mail), and why sending stopped."""
    if outcome.disabled:
        return
    for delivery in outcome.planned:
        console.print(f"Correo que se enviaría: {escape(delivery.describe())}", highlight=False, soft_wrap=True)
    for delivery in outcome.sent:
        console.print(f"Correo enviado: {escape(delivery.describe())}", highlight=False, soft_wrap=True)
    for addressee in outcome.without_address:
        console.print(f"[yellow]Sin correo para {escape(addressee)}:[/] no tiene direcciones en la configuración",
                      highlight=False)
    if outcome.refused:
        err_console.print(f"[yellow]El servidor de correo rechazó a {', '.join(outcome.refused)}[/]; se "
                          "reintentará en la próxima ejecución.", highlight=False)
    if outcome.failure:
        err_console.print(f"[yellow]No se pudo enviar el correo:[/] {escape(outcome.failure)}. Pendientes para la "
                          f"próxima ejecución: {count(len(outcome.pending), 'mensaje')}; la publicación no se vio "
                          "afectada.", highlight=False)
    if not (outcome.planned or outcome.sent or outcome.failure):
        console.print(f"Correo: nada nuevo que enviar (enviados antes: {count(outcome.unchanged, 'mensaje')}).")


def _status_label(status: ItemStatus, dry_run: bool) -> str:
    """The status as the summary shows it: a dry run's published items "se publicarían"."""
    if dry_run and status.fulfilled and status.short_label.startswith("Publicado"):
        return "Se publicaría" + status.short_label.removeprefix("Publicado")
    return status.short_label


def _reasons(failed: list[ItemReport]) -> None:
    """One line per item due that did not publish (or whose attempt failed): the bars say it while
    the run goes, this says it where it stays (the flow run's log has the same lines)."""
    if not failed:
        return
    console.print(UNPUBLISHED_HEADER)
    for item in failed:
        style = STATUS_STYLE[item.status]
        console.print(f"  {item.code} [{style}]{item.status.short_label}[/]: {escape(one_line(item.detail))}",
                      highlight=False, soft_wrap=True)


@app.command("run")
@friendly_errors
def run_command(
    period: str = typer.Option(..., "--period", help="Mes a publicar, AAAA-MM."),
    config: list[Path] = typer.Option([DEFAULT_CONFIG], "--config",
                                      help="Configuración de la institución; se puede repetir, o dar una carpeta "
                                           "de configuraciones, para publicar varias instituciones en Dask."),
    target: str | None = typer.Option(None, "--target", help="local o ckan (por defecto, el de la configuración)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Extrae y valida, muestra lo que publicaría y los correos "
                                                          "que enviaría; no escribe ni envía."),
    review: bool = typer.Option(False, "--revision", help="Nada se publica hasta que el oficial apruebe la vista "
                                                           "previa en Prefect (por defecto: publish.review)."),
    no_review: bool = typer.Option(False, "--sin-revision", help="Publica sin esperar aprobación, aunque la "
                                                                "configuración pida revisión."),
    no_mail: bool = typer.Option(False, "--sin-correo", help="No envía ningún correo (recordatorios, observaciones, "
                                                             "resumen)."),
    task_runner: str = typer.Option("thread", "--task-runner", help="thread (una máquina) o dask (una institución)."),
    dask_address: str | None = typer.Option(None, "--dask-address", help="Dirección de un clúster Dask existente."),
    workers: int | None = typer.Option(None, "--workers", min=1,
                                       help="Procesos del clúster Dask local (varias instituciones; por defecto, "
                                            "uno por núcleo)."),
) -> None:
    """Publica un mes: extrae, valida, publica e informa. Salida 0: todo publicado; 1: puntos rechazados o faltantes; 2: error de configuración; 75: el portal no respondió o estaba ocupado (vuelva a ejecutar más tarde)."""
    chosen = Target.parse(target, "--target") if target is not None else None
    month = Period.parse(period).require_ended()
    reviewed = _review_choice(review, no_review)
    with _unwind_on_sigterm():
        if len(config) > 1 or config[0].is_dir():
            result = _national(month, config, chosen, dry_run, dask_address, workers, reviewed,
                               send_mail=not no_mail)
            _national_summary(result)
            sys.exit(result.exit_code)
        run_id = new_run_id()
        with ExitStack() as held:  # the portal's lease, from the pre-flight to the end of the run
            _preflight(config[0], month, chosen, dry_run, reviewed, run_id, held)
            result = _release(month, config[0], chosen, dry_run, task_runner, dask_address, reviewed,
                              send_mail=not no_mail, run_id=run_id)
        _summary(result)
        sys.exit(result.exit_code)


def _review_choice(review: bool, no_review: bool) -> bool | None:
    """The run's own choice about the review before publishing, over ``publish.review``; None: the
    configuration's. Two flags rather than one ``--revision/--sin-revision`` pair, so the help fits 80 columns."""
    if review and no_review:
        raise ConfigError("Indique --revision o --sin-revision, no ambas.")
    return True if review else False if no_review else None


def _national(period: Period, configs: list[Path], target: str | None, dry_run: bool, dask_address: str | None,
              workers: int | None, review: bool | None = None, send_mail: bool = True):
    configure_prefect()
    server.start()  # as in _release: a temporary server boots while Prefect and Dask are imported
    from transparencia.flows import national  # Prefect and Dask, after configure_prefect (as above)

    paths = national.config_paths(configs)
    if any(_reviews(path, review, dry_run) for path in paths):
        _require_prefect_server()
    where = f"el clúster Dask {dask_address}" if dask_address else "un clúster Dask local"
    console.print(f"Publicación del período [bold]{period}[/] de {count(len(paths), 'institución')} en {where} "
                  "(iniciando Prefect y Dask…)")
    with console.status("Publicando…"):
        return national.run_national(period, paths, target=target, dry_run=dry_run, dask_address=dask_address,
                                     workers=workers, review=review, send_mail=send_mail)


def _reviews(config: Path, review: bool | None, dry_run: bool) -> bool:
    """Whether this institution's run waits for a review; a configuration that cannot be read says
    nothing here: its own run reports it, and the other institutions still run."""
    try:
        return load_config(config).publish.reviews(review, dry_run)
    except ConfigError:
        return False


def _national_summary(result) -> None:

    table = Table(title=f"{count(len(result.runs), 'institución')}, período {result.period}", box=box.SIMPLE_HEAD,
                  pad_edge=False)
    table.add_column("Institución", max_width=28, overflow="ellipsis", no_wrap=True)
    table.add_column("Puntos", justify="right", no_wrap=True)
    table.add_column("Banda", no_wrap=True)
    table.add_column("Escrit.", justify="right")
    table.add_column("Tiempo", justify="right", no_wrap=True)
    for run in result.runs:
        if run.error:
            table.add_row(run.institution, "—", "[red]no se ejecutó[/]", "—", f"{run.seconds:.1f} s")
            continue
        summary = run.result.report["summary"]
        score = AntaiScore(summary["fulfilled"], summary["applicable"])
        table.add_row(run.institution, f"{score.met} de {score.applicable}", score.band.label.split(" (")[0],
                      str(run.result.writes), f"{run.seconds:.1f} s")
    console.print(table)
    for run in result.runs:
        if run.error:
            err_console.print(f"[red]Error[/] en {run.config}: {run.error}", highlight=False)
        elif run.result.errors:
            err_console.print(f"[red]Error[/] en {run.institution}: {'; '.join(run.result.errors)}", highlight=False)
    failed = sum(1 for r in result.runs if r.exit_code)
    console.print(f"{count(len(result.runs) - failed, 'institución')} sin problemas, {failed} con puntos rechazados, "
                  "faltantes o errores (detalle en el informe de cada una).")


@app.command("recordatorios")
@friendly_errors
def reminders_command(
    period: str | None = typer.Option(None, "--period", help="Mes cuyos archivos se esperan, AAAA-MM (por defecto, "
                                                              "el mes cuyo día de recordatorios llegó)."),
    config: Path = typer.Option(DEFAULT_CONFIG, "--config", help="Configuración de la institución."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Muestra los recordatorios que enviaría; no envía nada."),
) -> None:
    """Envía un recordatorio a cada dirección cuyos archivos del mes aún no llegaron (sin publicar nada)."""
    institution = load_config(config)
    if institution.notifications is None:
        raise ConfigError(f"{config.name}: no hay sección 'notifications': no se envía correo")
    now = dt.datetime.now(institution.schedule.zone)
    month = Period.parse(period) if period else notify.reminder_month(institution, now)
    if month is None:
        console.print(notify.NO_REMINDERS_TODAY)
        return
    outcome = notify.send_reminders(institution, month, new_run_id(), dry_run)
    _mail_summary(outcome)
    if not (outcome.sent or outcome.planned or outcome.failure or outcome.unchanged):
        console.print(f"Todas las direcciones enviaron sus archivos de {month.label_es}: no hay recordatorios.")


@app.command("report")
@friendly_errors
def report_command(
    period: str = typer.Option(..., "--period", help="Mes del informe, AAAA-MM."),
    fmt: str = typer.Option("md", "--format", help="html, json o md."),
    config: Path = typer.Option(DEFAULT_CONFIG, "--config", help="Configuración de la institución."),
) -> None:
    """Muestra el informe de cumplimiento de un mes ya ejecutado (html: imprime la ruta del archivo)."""
    if fmt not in REPORT_FORMATS:
        raise ConfigError(f"Formato '{fmt}' desconocido: use html, json o md")
    month = Period.parse(period)
    workspace = load_config(config).workspace
    source = workspace.report_file(month, "json")
    if not source.exists():
        raise ConfigError(f"No hay informe para {month}: ejecute antes '{run_hint(month, config)}'")
    report = load_report(source)
    if fmt == "html":
        console.print(str(write_report(report, workspace.report_dir(month), ["html"])["html"]))
    else:
        sys.stdout.write(render(report, fmt))


@app.command("demo")
@friendly_errors
def demo_command(
    config: Path = typer.Option(DEFAULT_CONFIG, "--config", help="Configuración de la institución de ejemplo."),
    period: str | None = typer.Option(None, "--period", help="Mes de la demostración (por defecto, el mes anterior)."),
) -> None:
    """Escribe las fuentes de ejemplo de dos meses (con errores a propósito) y los publica en el catálogo local."""
    month = (Period.parse(period) if period else Period.previous()).require_ended()
    institution = load_config(config)
    # Two months, so the second shows what changed: altas, bajas, salary changes, totals.
    for shown in (month.shift(-1), month):
        written = write_month(institution, shown)
        console.print(f"Fuentes de ejemplo de {shown}: {len(written)} archivos en {institution.inbox}")
        result = _release(shown, config, Target.LOCAL, False, "thread", None)
        antai = result.report["summary"]["antai"]
        console.print(f"{shown}: {result.report['summary']['headline']} ({antai['percentage']} %, {antai['band_label']})")
    _summary(result)
    console.print(f"Catálogo local: {institution.publish.local_dir / 'index.html'}")
    if result.exit_code == 1:
        # The demonstration's rejected and missing items are deliberate: it succeeded in showing them.
        console.print("La demostración incluye errores a propósito: con 'transparencia run' este mes "
                      "terminaría con código 1 (puntos rechazados o faltantes).")
        return
    sys.exit(result.exit_code)


@app.command("serve")
@friendly_errors
def serve_command(
    config: Path = typer.Option(DEFAULT_CONFIG, "--config", help="Configuración de la institución."),
    cron: str | None = typer.Option(None, "--cron", help="Programación (cron) de la publicación del mes anterior "
                                    "(por defecto, la de la configuración: 'schedule.cron', o '0 6 5 * *')."),
    timezone: str | None = typer.Option(None, "--timezone", help="Zona horaria de la programación "
                                        "(por defecto, 'schedule.timezone' de la configuración, o America/Panama)."),
    target: str | None = typer.Option(None, "--target", help="local o ckan (por defecto, el de la configuración)."),
) -> None:
    """Sirve dos despliegues en Prefect: el programado (mes anterior) y el manual (con período)."""
    institution = load_config(config)  # fail fast, with the Spanish message, before contacting Prefect
    configure_prefect(console_level=None, home=institution.workspace.prefect_home)
    from transparencia.flows.deploy import serve  # Prefect, after configure_prefect (as above)

    cron = cron or institution.schedule.cron
    timezone = timezone or institution.schedule.timezone
    console.print(f"Sirviendo 'publicacion-programada' (cron '{cron}', {timezone}) y 'publicacion-manual'. "
                  "Ctrl+C para detener.")
    serve(config, cron, timezone, target)
