"""Render one validated month of an item into the files every publisher backend receives.

The output is deterministic: the same release gives byte-identical files on every run (no clock
reading anywhere; XLSX zips carry fixed dates), so backends can skip anything whose sha256 has
not changed. Personal-data rules are applied here, once, to the data and to the validation report
published beside it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import jinja2
import pandas as pd

from transparencia.domain import OutputFormat, Period, PrivacyPolicy, sha256_file
from transparencia.domain.jsontypes import JsonObject
from transparencia.errors import ConfigError, InputError
from transparencia.output import charts, templates
from transparencia.output.csvfile import write_csv
from transparencia.publishers import changes, datapackage, formats, public
from transparencia.publishers.base import BASE_TAGS, Coverage, DatasetSpec, DatastoreField, DatastoreTable, ResourceFile
from transparencia.publishers.history_memo import HistoryMemo, layout_key
from transparencia.publishers.names import (
    changes_resource_name,
    chart_resource_name,
    history_resource_name,
    month_resource_name,
    package_resource_name,
    report_resource_name,
    withdrawals_resource_name,
)
from transparencia.publishers.privacy import apply_privacy
from transparencia.publishers.render_memo import RenderMemo, release_fingerprint
from transparencia.schemas.catalog import Item
from transparencia.schemas.table import Field, TableSchema
from transparencia.sources.config import Institution
from transparencia.validation.findings import ValidationReport
from transparencia.wording import count

DATASTORE_TYPES = {
    "string": "text", "yearmonth": "text", "number": "numeric",
    "integer": "int", "date": "date", "boolean": "bool",
}
TYPE_LABELS = {
    "string": "texto", "yearmonth": "año-mes (AAAA-MM)", "number": "número",
    "integer": "entero", "date": "fecha (AAAA-MM-DD)", "boolean": "verdadero/falso",
}
_TEMPLATES = templates.environment(Path(__file__).parent / "templates")
MONEY_AXIS = "Balboas (B/.)"  # the value axis of a chart of amounts


def template(name: str) -> jinja2.Template:
    """A template shipped under ``publishers/templates``."""
    return _TEMPLATES.get_template(name)


@dataclass(eq=False)
class ItemRelease:
    """One validated month of one item of one institution, ready to render.

    ``frame`` and ``history`` hold every schema column, before personal-data rules; ``history``
    holds every published month of the item including this one (the flow builds it).
    ``privacy`` is the institution's per-field override (publish | mask | omit).
    """

    item: Item
    schema: TableSchema
    period: Period
    frame: pd.DataFrame
    history: pd.DataFrame
    report: ValidationReport
    institution: Institution
    privacy: Mapping[str, str] = field(default_factory=dict)
    directorate: str = ""
    # The item's other months the target holds, read before publishing: a change summary compares with
    # the latest of them that is earlier, and the description states the newest of them (or this month).
    # None when not read (every month of the history counts).
    online: frozenset[Period] | None = None
    # What stands for the month's and the history's rows in the render memo's fingerprint, when the
    # caller knows it (``flows.stages``: the extraction's input key and the stored months' sha256);
    # None: the rows are hashed.
    rows_key: str | None = None
    # Each month ``history`` holds (with rows or declared without movements) and its stored content
    # key (``flows.stages``: the store's sha256), when the caller knows them: the history files then
    # grow by this month's rows rather than being written again (``publishers.history_memo``).
    month_keys: Mapping[Period, str] | None = None

    @property
    def online_after(self) -> frozenset[Period] | None:
        """The months online once this release is published: those read before, and this one."""
        return None if self.online is None else self.online | {self.period}

    @staticmethod
    def period_of(text: str, item: Item) -> Period:
        """``text`` (AAAA-MM) as the month of a release of ``item``, for callers that hold it as text."""
        if not Period.is_valid(text):
            raise InputError(f"Período '{text}' no válido para {item.name}: se esperaba AAAA-MM")
        return Period.parse(text)


def render_release(release: ItemRelease, out_dir: Path,
                   formats: Sequence[str] = ("csv", "xlsx", "json")) -> tuple[DatasetSpec, list[ResourceFile]]:
    """Write the month, the history, the data dictionary and the validation report under ``out_dir``.

    When nothing rendering reads has changed since the last render there, its files are reused
    (``publishers.render_memo``): a re-run of an unchanged month renders nothing."""
    memo = RenderMemo(Path(out_dir), release_fingerprint(release, formats))
    rendered = memo.load()
    if rendered is None:
        memo.forget()
        rendered = _render_files(release, out_dir, formats)
        memo.save(*rendered)
    return rendered


def _render_files(release: ItemRelease, out_dir: Path,
                  formats: Sequence[str]) -> tuple[DatasetSpec, list[ResourceFile]]:
    _check(release, formats)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rules = release.schema.treatments(release.privacy)
    fields = [f for f in release.schema.fields if rules[f.name].published]
    periods = _history_periods(release)

    online = release.online_after
    month = _published(release.frame, release, fields)
    summary = changes.summarise(release.schema, release.history, release.period, rules, release.item.name, online)
    resources = _render_month(release, month, fields, out_dir, formats)
    resources += _render_history(release, month, fields, out_dir, formats, periods[-1])
    resources.append(_render_dictionary(release, rules, out_dir))
    resources += _render_report(release, rules, out_dir)
    resources += _render_changes(release, summary, out_dir)
    resources += _render_following_changes(release, rules, periods, online, out_dir)
    resources.append(_render_chart(release, rules, periods, out_dir))
    newest = _newest_online(periods, online) or release.period
    latest = summary if newest == release.period else changes.summarise(
        release.schema, release.history, newest, rules, release.item.name, online)
    spec = _dataset_spec(release, rules, periods, latest)
    resources.append(_render_package(release, spec, fields, rules, periods, "csv" in formats, out_dir))
    return spec, resources


def _check(release: ItemRelease, wanted: Sequence[str]) -> None:
    choices = OutputFormat.data_formats()
    unknown = [f for f in wanted if f not in choices]
    if unknown or not wanted:
        raise ConfigError(
            f"Formatos de publicación no válidos: {', '.join(unknown) or '(ninguno)'}; use {', '.join(choices)}"
        )
    for name, frame in (("del mes", release.frame), ("histórica", release.history)):
        missing = [c for c in release.schema.field_names if c not in frame.columns]
        if missing:
            raise InputError(
                f"{release.item.name} {release.period}: a la tabla {name} le faltan las columnas "
                f"{', '.join(missing)} del esquema '{release.schema.name}'"
            )


def _history_periods(release: ItemRelease) -> list[Period]:
    return sorted(_column_periods(release.history) | {release.period})


def _newest_online(periods: Sequence[Period], online: frozenset[Period] | None) -> Period | None:
    """The newest month the public reads once the release is online: what the dataset's description
    states, whichever month ran last (an earlier month re-run leaves the newest one in place). A
    month online that this machine's history lacks cannot be described, so it is passed over."""
    return max((p for p in periods if online is None or p in online), default=None)


def _column_periods(history: pd.DataFrame) -> set[Period]:
    """The months a history holds (its ``periodo`` column)."""
    return {Period.parse(str(p)) for p in history["periodo"].dropna().unique()}


def _first_day(period: Period) -> dt.datetime:
    return dt.datetime(period.year, period.month, 1)


def _resource(name: str, fmt: str, path: Path, description: str, period: Period | None = None,
              datastore: DatastoreTable | None = None, role: str = "", sha256: str | None = None) -> ResourceFile:
    return ResourceFile(name=name, format=OutputFormat(fmt.lower()), path=path, sha256=sha256 or sha256_file(path),
                        description=description, period=period,
                        datastore=datastore, role=role)


def _write(fmt: str, frame: pd.DataFrame, fields: list[Field], path: Path, sheet: str, date: dt.datetime) -> None:
    formats.WRITERS.get(fmt, "publish.formats")(frame, fields, path, sheet, date)


def _published(frame: pd.DataFrame, release: ItemRelease, fields: list[Field]) -> pd.DataFrame:
    """The privacy-filtered frame with exactly the published columns (one copy of the data)."""
    return _public_frame(frame, release.schema, release.privacy, fields)


def _public_frame(frame: pd.DataFrame, schema: TableSchema, privacy: Mapping[str, str],
                  fields: list[Field]) -> pd.DataFrame:
    names = schema.field_names
    extra = [c for c in frame.columns if c not in names]
    public = apply_privacy(frame.drop(columns=extra) if extra else frame, schema, privacy)
    return public[[f.name for f in fields]] if list(public.columns) != [f.name for f in fields] else public


def published_fields(schema: TableSchema, privacy: Mapping[str, str]) -> list[Field]:
    """The fields a month's files carry: every field its personal-data rule lets out, in schema order."""
    rules = schema.treatments(privacy)
    return [f for f in schema.fields if rules[f.name].published]


def month_csv_sha256(schema: TableSchema, privacy: Mapping[str, str], frame: pd.DataFrame, path: Path) -> str:
    """The sha256 of the CSV ``frame`` renders to as a month's file (written at ``path``): what tells
    whether a stored month is the one the target holds, without rendering its release."""
    fields = published_fields(schema, privacy)
    formats.write_csv(_public_frame(frame, schema, privacy, fields), fields, path)
    return sha256_file(path)


def _render_month(release: ItemRelease, month: pd.DataFrame, fields: list[Field], out_dir: Path,
                  wanted: Sequence[str]) -> list[ResourceFile]:
    label, period, slug = release.item.name, release.period, release.item.slug
    date = _first_day(release.period)
    resources = []
    for fmt in wanted:
        path = out_dir / f"{slug}-{period}.{fmt}"
        _write(fmt, month, fields, path, f"{label} {period}", date)
        datastore = _datastore_table(release, month, fields, out_dir) if fmt == "csv" else None
        resources.append(_resource(
            month_resource_name(label, period, fmt), fmt.upper(), path,
            f"{label} de {release.institution.name}, {release.period.label_es}. {count(len(month), 'fila')}. "
            f"{_FORMAT_NOTES[fmt]}",
            period=period, datastore=datastore, role="month",
        ))
    return resources


_FORMAT_NOTES = {
    "csv": "CSV en UTF-8 (con BOM, se abre en Excel), fechas AAAA-MM-DD, punto decimal.",
    "xlsx": "Libro de Excel con números y fechas tipados.",
    "json": "Lista de registros JSON en UTF-8, fechas AAAA-MM-DD.",
    "parquet": "Parquet con columnas tipadas.",
}


# Formats whose bytes depend only on the rows (XLSX also carries the sheet title and a date).
_ROWS_ONLY_FORMATS = ("csv", "json", "parquet")


def _render_history(release: ItemRelease, month: pd.DataFrame, fields: list[Field], out_dir: Path,
                    wanted: Sequence[str], last_period: Period, *, append: bool = True) -> list[ResourceFile]:
    """The history files; when the history is just this month's rows (an item's first month),
    the month's CSV/JSON/Parquet are copied rather than written again, and its XLSX sheets under the
    history's title; when only this month's rows are new, the CSV and JSON grow by them
    (``publishers.history_memo``) unless ``append`` is False."""
    label, period, slug = release.item.name, release.period, release.item.slug
    ordered = release.history.sort_values("periodo", kind="stable")
    # Published (masked) only when needed: a history that grows formats this month's rows alone.
    history = functools.cache(lambda: _published(ordered, release, fields))
    this_month = functools.cache(lambda: _published(ordered[ordered["periodo"].astype("string") == str(period)],
                                                    release, fields))
    first = ordered["periodo"].min() if len(ordered) else release.period
    same_rows = len(ordered) == len(month) and history().reset_index(drop=True).equals(month.reset_index(drop=True))
    keys = release.month_keys
    if keys is not None and not _column_periods(release.history) <= set(keys):
        keys = None  # a month whose rows nothing vouches for: no reuse
    memo = HistoryMemo(out_dir, layout_key(fields, release.schema.treatments(release.privacy)), keys)
    resources = []
    for fmt in wanted:
        path = out_dir / f"{slug}-historico.{fmt}"
        full: Callable[[], object]
        if same_rows and fmt in _ROWS_ONLY_FORMATS:
            full = functools.partial(shutil.copyfile, out_dir / f"{slug}-{period}.{fmt}", path)
        elif same_rows and fmt == "xlsx":
            full = functools.partial(formats.write_xlsx_retitled, out_dir / f"{slug}-{period}.{fmt}", path,
                                     sheet_title=_history_title(label), document_date=_first_day(last_period))
        else:
            full = functools.partial(_write_history, fmt, history, fields, path, label, last_period)
        sha256 = memo.write(fmt, path, period, len(ordered), this_month, fields, full, append=append)
        resources.append(_resource(
            history_resource_name(label, fmt), fmt.upper(), path,
            f"Todos los meses publicados de {label} en un solo archivo ({first} a {last_period}). "
            f"{_FORMAT_NOTES[fmt]}", sha256=sha256,
        ))
    memo.save()
    return resources


def _write_history(fmt: str, history: Callable[[], pd.DataFrame], fields: list[Field], path: Path, label: str,
                   last_period: Period) -> None:
    _write(fmt, history(), fields, path, _history_title(label), _first_day(last_period))


def _history_title(label: str) -> str:
    return f"{label} histórico"


def _datastore_table(release: ItemRelease, month: pd.DataFrame, fields: list[Field], out_dir: Path) -> DatastoreTable:
    """Typed DataStore columns and the month's rows as Parquet with ISO dates, for the CKAN backend."""
    rules = release.schema.treatments(release.privacy)
    folder = out_dir / "datastore"
    folder.mkdir(exist_ok=True)
    rows = folder / f"{release.item.slug}-{release.period}.parquet"
    formats.write_parquet(month, fields, rows, iso_dates=True)
    key = release.schema.primary_key
    key_published = bool(key) and all(rules[name] is PrivacyPolicy.PUBLISH for name in key)
    return DatastoreTable(
        fields=tuple(
            DatastoreField(id=f.name, type=DATASTORE_TYPES[f.type], label=f.title,
                           notes=_field_notes(f, rules[f.name]))
            for f in fields
        ),
        rows_path=rows,
        primary_key=key if key_published else (),
    )


def _field_notes(f: Field, treatment: PrivacyPolicy) -> str:
    if treatment is PrivacyPolicy.PUBLISH:
        return f.description
    return f"{f.description} {treatment.label}".strip()


def _render_dictionary(release: ItemRelease, rules: Mapping[str, PrivacyPolicy], out_dir: Path) -> ResourceFile:
    label = release.item.name
    path = out_dir / f"{release.item.slug}-diccionario.csv"
    rows = [list(DICTIONARY_COLUMNS)]
    rows += [[f.name, f.title, TYPE_LABELS[f.type], f.description, rules[f.name].label]
             for f in release.schema.fields]
    write_csv(path, rows)
    return _resource(f"{label} — diccionario de datos", "CSV", path,
                     f"Qué significa cada columna de {label}, su tipo y cómo se tratan los datos personales.")


def _render_report(release: ItemRelease, rules: Mapping[str, PrivacyPolicy], out_dir: Path) -> list[ResourceFile]:
    label, period, slug = release.item.name, release.period, release.item.slug
    public = public_report(release.report, release.schema, rules)
    json_path = out_dir / f"{slug}-{period}-informe-validacion.json"
    json_path.write_text(json.dumps(public, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
    html_path = out_dir / f"{slug}-{period}-informe-validacion.html"
    html = template("informe.html.j2").render(
        report=public, item=label, period=period, month=release.period.label_es,
        institution=release.institution.name, directorate=release.directorate,
        reasons=DROP_REASONS,
    )
    html_path.write_text(html, encoding="utf-8")
    description = (f"Resultado de la validación de {label} de {release.period.label_es}: filas leídas, "
                   f"errores, advertencias y transformaciones aplicadas al archivo de origen.")
    return [
        _resource(report_resource_name(label, period, "json"), "JSON", json_path, description, period=period),
        _resource(report_resource_name(label, period, "html"), "HTML", html_path, description, period=period),
    ]


DROP_REASONS = {
    "blank": "fila en blanco", "total": "fila de totales", "footnote": "nota al pie",
    "repeated_header": "encabezado repetido", "note": "nota o título entre bloques",
    "numbering": "fila de numeración de columnas", "declared_empty": "declaración «sin movimientos en el período»",
}
COERCION_LABELS = {
    "amount_text": "montos escritos como texto convertidos a número",
    "excel_serial_date": "fechas en número de serie de Excel convertidas",
    "text_date": "fechas escritas como texto convertidas",
    "spanish_text_date": "fechas escritas en palabras convertidas (p. ej. «15 de enero de 2025»)",
    "month_first_date": "fechas con el mes primero (p. ej. «12/25/2024», como exporta un Excel en inglés), "
                        "leídas así porque la columna lo muestra",
    "cedula_normalised": "cédulas normalizadas",
    "enum_case": "valores de lista corregidos en mayúsculas/minúsculas",
    "whitespace": "espacios sobrantes al inicio o al final quitados",
    "number_as_text": "números guardados como texto",
    "value_as_text": "valores guardados como texto",
    "text_yearmonth": "períodos escritos como texto convertidos a AAAA-MM",
    "date_as_yearmonth": "fechas convertidas a período AAAA-MM",
    "period_from_run": "período del mes publicado asignado a todas las filas (el archivo no trae columna de período)",
    "period_for_blank_cells": "celdas de período vacías completadas con el mes publicado",
    "negative_notation": "montos negativos escritos entre paréntesis, con el signo al final o con un guion tipográfico",
    "invisible_characters": "caracteres invisibles quitados (espacios de ancho cero, marcas de orden de bytes)",
    "unicode_composed": "acentos escritos como caracteres separados unidos a su letra (forma NFC)",
    "empty_marker": "marcas de «sin dato» ('—', 'N/A', 's/d', 'no aplica'…) en columnas opcionales leídas como vacías",
    "merged_cell_filled": "celdas combinadas verticalmente: el valor se aplicó a cada fila que cubren",
}


def public_report(report: ValidationReport, schema: TableSchema, rules: Mapping[str, str]) -> JsonObject:
    """``report.to_dict()`` as it may be published (see ``publishers.public``).

    Findings follow their columns' personal-data policy (masked, or no value) with messages
    rendered from the treated value; coercion examples likewise; the source is described in
    public terms (no path, no URL); conversions are described in Spanish, never by internal id.
    """
    data = report.to_dict()
    data["errors"] = [public.public_finding(f, schema, rules) for f in report.errors]
    data["warnings"] = [public.public_finding(f, schema, rules) for f in report.warnings]
    data["notices"] = [public.public_finding(f, schema, rules) for f in report.notices]
    data["file"] = public.file_name(report.file)
    extraction = data.get("extraction", {})
    if report.source is not None:
        data["source"] = extraction["source"] = public.describe_source(report.source)
    for coercion in extraction.get("coercions", []):
        coercion["description"] = COERCION_LABELS.get(coercion.get("kind"), "valores convertidos")
        coercion["examples"] = [
            [_public_example(v, coercion.get("column"), schema, rules) for v in pair]
            for pair in coercion.get("examples", [])
        ]
    return public.finish(data, schema, rules)


def _public_example(value: Any, column: str | None, schema: TableSchema, rules: Mapping[str, str]) -> Any:
    treated, changed = public.treated_value(value, column, schema, rules)
    return public.OMITTED_VALUE if changed and treated is None else treated


class WithdrawalRecord(TypedDict):
    """One withdrawal of a month (``transparencia retirar``), as the dataset's public record lists it."""

    date: str  # ISO date of the withdrawal
    period: str  # AAAA-MM
    resources: list[str]  # the resource names deleted from the target
    reason: str  # the officer's --motivo, published
    # Set while the record is not yet published (an attempt stopped after deleting files): the next
    # withdrawal of the month completes this entry rather than adding one (``MonthStore.record_withdrawal``).
    pending: NotRequired[bool]


def render_withdrawal(release: ItemRelease, withdrawals: Sequence[WithdrawalRecord], out_dir: Path,
                      wanted: Sequence[str] = ("csv", "xlsx", "json")) -> tuple[DatasetSpec, list[ResourceFile]]:
    """What a dataset holds after ``release.period`` was withdrawn: the history rebuilt from the
    months that remain (``release.history``, possibly empty; then there is no history), the change
    summary of the month after it (``release.online`` says which months remain online), and the
    public record of every withdrawal of the item (date, month, what was removed, why)."""
    _check(release, wanted)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rules = release.schema.treatments(release.privacy)
    fields = [f for f in release.schema.fields if rules[f.name].published]
    remaining = sorted(_column_periods(release.history))
    resources = []
    summary = None
    if remaining:
        nothing = _published(release.history.iloc[0:0], release, fields)
        resources += _render_history(release, nothing, fields, out_dir, wanted, remaining[-1], append=False)
        newest = _newest_online(remaining, release.online)
        summary = None if newest is None else changes.summarise(release.schema, release.history, newest, rules,
                                                                release.item.name, release.online)
        resources.append(_render_chart(release, rules, remaining, out_dir))
        resources += _render_following_changes(release, rules, remaining, release.online, out_dir)
    resources.append(_render_withdrawals(release.item.name, withdrawals, out_dir / f"{release.item.slug}-retiros.csv"))
    spec = _dataset_spec(release, rules, remaining, summary)
    if remaining:
        resources.append(_render_package(release, spec, fields, rules, remaining, "csv" in wanted, out_dir))
    return spec, resources


def _render_following_changes(release: ItemRelease, rules: Mapping[str, PrivacyPolicy], periods: Sequence[Period],
                              online: frozenset[Period] | None, out_dir: Path) -> list[ResourceFile]:
    """The change summary of the month online after ``release.period``, again: it compares with the
    latest earlier month online, which this release may have just published, corrected or withdrawn."""
    later = [p for p in periods if p > release.period and (online is None or p in online)]
    if not later:
        return []
    following = dataclasses.replace(release, period=later[0])
    summary = changes.summarise(release.schema, release.history, later[0], rules, release.item.name, online)
    return _render_changes(following, summary, out_dir)


def _render_withdrawals(label: str, withdrawals: Sequence[WithdrawalRecord], path: Path) -> ResourceFile:
    rows = [["fecha_retiro", "periodo", "recursos_retirados", "motivo"]]
    rows += [[w["date"], w["period"], "; ".join(w["resources"]), w["reason"]] for w in withdrawals]
    write_csv(path, rows)
    return _resource(withdrawals_resource_name(label), "CSV", path,
                     f"Meses de {label} retirados de la publicación: cuándo se retiró cada uno, qué archivos "
                     "y por qué. Un mes corregido puede publicarse de nuevo.")


def _dataset_spec(release: ItemRelease, rules: Mapping[str, PrivacyPolicy], periods: list[Period],
                  summary: changes.ChangeSummary | None) -> DatasetSpec:
    item, institution = release.item, release.institution
    return DatasetSpec(
        name=item.dataset_name(institution.acronym),
        title=f"{item.name} — {institution.name}",
        notes=_notes(release, rules, summary),
        organization=institution.organization,
        publisher_name=institution.name,
        license_id=institution.license_id,
        tags=(*BASE_TAGS, item.slug, institution.acronym.lower()),
        maintainer=institution.maintainer,
        maintainer_email=institution.maintainer_email,
        frequency=item.frequency,
        coverage=Coverage.of(periods) if periods else None,
        legal_basis=item.legal_basis,
        directorate=release.directorate or None,
        item_code=item.code,
    )


# The description's statement of the newest month, which ``publishers.verification`` reads back.
LATEST_MONTH = re.compile(r"Último mes publicado, (\d{4}-\d{2}):")


def _notes(release: ItemRelease, rules: Mapping[str, PrivacyPolicy], summary: changes.ChangeSummary | None) -> str:
    item, schema = release.item, release.schema
    parts = [
        schema.description.strip(),
        f"Último mes publicado, {summary.totals_text()} {summary.headline}" if summary else "",
        f"Publicado por {release.institution.name} en cumplimiento de {item.legal_basis}"
        + (f"; fuente: {release.directorate}." if release.directorate else "."),
        "Incluye un archivo por mes en cada formato, un histórico con todos los meses, el diccionario "
        "de datos, el informe de validación y los cambios respecto al mes anterior de cada mes, un gráfico "
        "mensual y un paquete de datos Frictionless (datapackage.json) que describe los CSV.",
    ]
    masked = [schema.field(n).title for n, r in rules.items() if r is PrivacyPolicy.MASK]
    hidden = [schema.field(n).title for n, r in rules.items() if not r.published]
    if masked:
        parts.append(f"Datos personales enmascarados: {', '.join(masked)} (p. ej. 8-***-4567).")
    if hidden:
        parts.append(f"Datos personales no publicados: {', '.join(hidden)}.")
    return "\n\n".join(p for p in parts if p)


# --------------------------------------------------------------------------- for journalists


def _render_changes(release: ItemRelease, summary: changes.ChangeSummary, out_dir: Path) -> list[ResourceFile]:
    label, period, slug = release.item.name, release.period, release.item.slug
    csv_path, json_path = out_dir / f"{slug}-{period}-cambios.csv", out_dir / f"{slug}-{period}-cambios.json"
    changes.write_changes(summary, csv_path, json_path)
    description = f"Cambios de {label} en {release.period.label_es} respecto al mes anterior. {summary.headline}"
    return [
        _resource(changes_resource_name(label, period, fmt), fmt, path, description,
                  period=period, role="changes")
        for fmt, path in (("CSV", csv_path), ("JSON", json_path))
    ]


def monthly_series(release: ItemRelease, rules: Mapping[str, str], periods: Sequence[Period]) -> list[charts.Series]:
    """Rows (or people) and the first amount's total for each of ``periods``: a month declared
    without movements has no rows in the history and is charted as zero."""
    history = release.history
    labels = [str(p) for p in periods]  # the history's periodo values
    months = history["periodo"].astype("string")
    grouped = history.groupby(months, sort=True)
    identity = release.schema.identity_field
    people = None if identity is None else changes.person_keys(history, release.schema, rules)
    counts = people.groupby(months, sort=True).nunique() if people is not None else grouped.size()
    counts = counts.reindex(labels, fill_value=0)
    counted = changes.PEOPLE_LABEL if identity is not None else changes.ROWS_LABEL
    panels = [charts.Series(f"{counted} por mes", [float(v) for v in counts.to_numpy()], axis=counted)]
    amounts = changes.amount_fields(release.schema, rules)
    if amounts:
        totals = grouped[amounts[0].name].sum().reindex(labels, fill_value=0)
        panels.append(charts.Series(f"{changes.total_title(amounts[0])} por mes", [round(float(v), 2) for v in totals],
                                    axis=MONEY_AXIS, amounts=True))
    return panels


def _render_chart(release: ItemRelease, rules: Mapping[str, str], periods: Sequence[Period],
                  out_dir: Path) -> ResourceFile:
    label, slug = release.item.name, release.item.slug
    panels = monthly_series(release, rules, periods)
    path = out_dir / f"{slug}-grafico.svg"
    path.write_text(charts.chart(f"{label}: totales y cantidades por mes", periods, panels), encoding="utf-8")
    return _resource(chart_resource_name(label), "SVG", path,
                     f"Gráfico de {label} mes a mes ({periods[0]} a {periods[-1]}): "
                     + " y ".join(p.title.lower() for p in panels) + ".", role="chart")


def _render_package(release: ItemRelease, spec: DatasetSpec, fields: list[Field], rules: Mapping[str, str],
                    periods: list[Period], with_months: bool, out_dir: Path) -> ResourceFile:
    """The Frictionless Data Package of the dataset's CSV files: every month's and the history (when
    CSV is published), the dictionary, and every month's change summary. The publisher keeps the
    files its target holds and adds their hash and size (``datapackage.as_held``)."""
    label, slug = release.item.name, release.item.slug
    schema = datapackage.table_schema(release.schema, fields, rules)
    tables = []
    if with_months:
        tables += [datapackage.CsvTable(f"{slug}-{p}", f"{slug}-{p}.csv", f"{label} {p}",
                                        f"{label} de {release.institution.name}, {p.label_es}.", schema)
                   for p in periods]
        tables.append(datapackage.CsvTable(f"{slug}-historico", f"{slug}-historico.csv", f"{label} — histórico",
                                           f"Todos los meses publicados de {label}.", schema))
    tables.append(datapackage.CsvTable(
        f"{slug}-diccionario", f"{slug}-diccionario.csv", f"{label} — diccionario de datos",
        f"Qué significa cada columna de {label}.", datapackage.text_schema(DICTIONARY_COLUMNS)))
    what_changed = ("Altas, bajas, cambios y totales" if release.schema.population
                    else "Registros nuevos más grandes y totales")
    tables += [datapackage.CsvTable(
        f"{slug}-{p}-cambios", f"{slug}-{p}-cambios.csv", f"{label} {p} — cambios respecto al mes anterior",
        f"{what_changed} de {label} en {p.label_es} frente al mes anterior.",
        datapackage.text_schema(changes.CSV_TITLES, numbers=("diferencia",))) for p in periods]
    descriptor = datapackage.package(spec.name, spec.title, spec.notes, spec.license_id, tables)
    path = datapackage.write_package(descriptor, out_dir)
    return _resource(package_resource_name(label), "JSON", path,
                     "Descripción Frictionless Data Package de los CSV de este conjunto: columnas, tipos, "
                     "restricciones y claves.", role="datapackage")


DICTIONARY_COLUMNS = {
    "campo": ("Campo", "Nombre de la columna en los archivos."),
    "título": ("Título", "Nombre legible de la columna."),
    "tipo": ("Tipo", "Tipo de dato."),
    "descripción": ("Descripción", "Qué contiene la columna."),
    "tratamiento de datos personales": ("Tratamiento de datos personales", "Cómo se publica la columna."),
}
