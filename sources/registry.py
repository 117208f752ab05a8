"""Connectors registered by name, each with a typed configuration, and the flow's entry points.

A source in the institution configuration says ``type: file`` or ``type: database``; the name
selects a ``Connector``: the pydantic model its settings are validated into, the model of its
per-item options, and the function that extracts one item for one period. ``extract_source`` is
what a flow calls for each (source, item) pair that ``planned_extractions`` lists; when given a
run id it archives every input under ``data/raw/<period>/<directorate>/`` before reading it.

Errors name the directorate, the source and the item. A connection that is refused or times out
is a ``TransientError`` (worth a retry); everything else is terminal. Each pair is extracted on its
own (the release flow runs one task per pair), so one source failing never stops another.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import glob
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from transparencia.domain import Period
from transparencia.domain.period import fill_placeholders
from transparencia.domain.registry import Registry
from transparencia.errors import ConfigError, InputError, TransparenciaError
from transparencia.schemas.catalog import Item
from transparencia.schemas.spec import Months, Spec, Text
from transparencia.sources import archive, workbook
from transparencia.sources.database import DatabaseItemOptions, DatabaseSettings, check_database, extract_database
from transparencia.sources.extraction import Extraction, SourceRef
from transparencia.sources.memo import ExtractionMemo, input_key
from transparencia.sources.normalise import normalise_table
from transparencia.sources.spreadsheet import extract_file

if TYPE_CHECKING:  # the configuration loader imports this registry, never the other way round
    from transparencia.sources.config import InstitutionConfig, SourceConfig

SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".xlsb", ".csv", ".txt"}
KIND_LABELS = {"xlsx": "libro de Excel", "xls": "libro de Excel 97-2003", "ods": "hoja de cálculo OpenDocument",
               "text": "texto CSV"}


class MissingInputError(InputError):
    """The directorate's input for the period did not arrive: the item is "faltante", not rejected."""


@dataclass(frozen=True)
class ExtractRequest:
    """Everything a connector needs to extract one item of one source for one period."""

    config: InstitutionConfig
    source: SourceConfig
    item: Item
    options: Any  # the connector's item-options model
    period: Period
    run_id: str | None = None  # archive inputs under this run when given

    @property
    def context(self) -> str:
        """How messages name what failed: directorate, source and item."""
        return (f"{self.source.directorate_name}, fuente '{self.source.id}', "
                f"punto {self.item.code} ({self.item.name})")


@dataclass(frozen=True)
class Connector:
    name: str
    settings: type[Spec]
    item_options: type[Spec]
    extract: Callable[[ExtractRequest], Extraction]


CONNECTORS: Registry[Connector] = Registry("tipo de fuente", "tipos")


def register(name: str, settings: type[Spec], item_options: type[Spec]
             ) -> Callable[[Callable[[ExtractRequest], Extraction]], Callable[[ExtractRequest], Extraction]]:
    """Register an extract function as the connector ``name`` (a decorator)."""

    def decorate(extract: Callable[[ExtractRequest], Extraction]) -> Callable[[ExtractRequest], Extraction]:
        CONNECTORS.add(name, Connector(name, settings, item_options, extract))
        return extract

    return decorate


def connector(name: str, where: str = "") -> Connector:
    return CONNECTORS.get(name, f"{where}.type")


# --------------------------------------------------------------------------- file connector


class FileSettings(Spec):
    """A glob relative to the configuration's ``inbox``, with ``{period}`` (AAAA-MM), ``{year}`` and
    ``{month}`` placeholders, e.g. ``inbox/{period}/rrhh/planilla*.xlsx``. Matching is case-insensitive
    on the file name; Excel's lock files (``~$...``) and hidden files are ignored."""

    path: Text

    def check(self, where: str) -> None:
        fill_placeholders(self.path, Period(2000, 1), f"{where}.path")

    def file_name(self, period: Period) -> str:
        """The name to give the file of ``period``, as the template and the letters say it: the
        pattern's name with the placeholders filled and its first wildcard standing for the month
        ('planilla*.xlsx' -> 'planilla-2025-01.xlsx'), other wildcards dropped. The name always
        matches the pattern; a pattern with other wildcards ('?', a character class) is given as is."""
        pattern = Path(fill_placeholders(self.path, period, "path")).name
        month = "" if str(period) in pattern else f"-{period}"
        name = pattern.replace("*", month, 1).replace("*", "")
        return name if not glob.has_magic(name) and fnmatch.fnmatchcase(name.lower(), pattern.lower()) else pattern


class FileItemOptions(Spec):
    sheet: Text | None = None  # the sheet to read; by default the extractor finds it
    empty_periods: Months = ()  # months declared without movements, for a directorate whose file cannot say so


def find_input(inbox: Path, pattern: str) -> list[Path]:
    """Files matching ``pattern`` under ``inbox``: directories by glob, the file name case-insensitively."""
    full = Path(pattern) if Path(pattern).is_absolute() else inbox / pattern
    folder_pattern, name_pattern = str(full.parent), full.name.lower()
    folders = [Path(f) for f in glob.glob(folder_pattern)] if glob.has_magic(folder_pattern) else [full.parent]
    found = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            name = entry.name
            if entry.is_file() and not name.startswith(("~$", ".")) and fnmatch.fnmatchcase(name.lower(), name_pattern):
                found.append(entry)
    return sorted(found)


@register("file", FileSettings, FileItemOptions)
def extract_file_source(request: ExtractRequest) -> Extraction:
    config, source, period = request.config, request.source, request.period
    pattern = fill_placeholders(source.settings.path, period, source.where)
    matches = find_input(config.inbox, pattern)
    if not matches and period in request.options.empty_periods:
        return _declared_without_file(request, pattern)
    substitute = None
    if not matches:
        substitute = _other_spreadsheet(config.inbox, pattern, request.context)
        if substitute is None:
            raise _missing(config.inbox, pattern, request.context, period)
        matches = [substitute]
    if len(matches) > 1:
        raise InputError(_ambiguous(matches, pattern, config.inbox, request.context))
    original = matches[0]
    shown = str(_relative(original, config.inbox))
    if request.run_id is None:
        extraction = _read_file(request, original, shown)
    else:  # an archived input whose bytes were read before is not read again (``sources.memo``)
        archived = archive.archive_file(config.workspace, period, source.directorate, original,
                                        request.run_id, origin=shown)
        key = input_key(archived.sha256, str(archived.path), shown, request.item, request.item.table_schema(),
                        request.options, source.settings, source.directorate_name, period)
        memo = ExtractionMemo(config.workspace, request.item.slug, period)
        extraction = memo.recall_or_extract(key, lambda: _read_file(request, archived.path, shown))
    extraction.source = dataclasses.replace(extraction.source, location=shown)
    if substitute is not None:
        extraction.notes.insert(0, f"Se esperaba un archivo que coincida con '{Path(pattern).name}' y llegó "
                                   f"'{substitute.name}' ({_kind_label(substitute)}); se leyó ese archivo.")
    return extraction


def _read_file(request: ExtractRequest, readable: Path, shown: str) -> Extraction:
    """The file's rows in the item's schema; an error names the file the officer put in the inbox,
    not the archived copy."""
    try:
        return extract_file(readable, request.item, sheet=request.options.sheet,
                            directorate=request.source.directorate_name, period=request.period)
    except InputError as exc:
        raise type(exc)(exc.message.replace(str(readable), shown), exc.public) from None


def _ambiguous(matches: list[Path], pattern: str, inbox: Path, context: str) -> str:
    names = ", ".join(str(_relative(m, inbox)) for m in matches)
    return (f"{context}: hay {len(matches)} archivos que coinciden con '{pattern}' ({names}); "
            "deje uno solo o precise el patrón en la configuración")


def _missing(inbox: Path, pattern: str, context: str, period: Period) -> MissingInputError:
    """Nothing arrived: the full message names the folder looked in (the public one, no path)."""
    folder = (inbox / pattern).parent
    where = (f"se buscó en '{folder}'" if glob.has_magic(str(folder)) or folder.is_dir()
             else f"la carpeta '{folder}' no existe")
    return MissingInputError(f"{context}: no llegó el archivo del período {period}: ningún archivo "
                             f"coincide con '{pattern}' en la carpeta de entrada ({where})",
                             f"{context}: no llegó el archivo del período {period} ('{Path(pattern).name}').")


def _same_name_other_extension(inbox: Path, pattern: str) -> list[Path]:
    """Files named as ``pattern`` expects but with any extension (``planilla enero.xls`` for ``planilla*.xlsx``)."""
    folder, name = Path(pattern).parent, Path(pattern).name
    stem, dot, _extension = name.rpartition(".")
    return find_input(inbox, str(folder / f"{stem}.*")) if dot else []


def _other_spreadsheet(inbox: Path, pattern: str, context: str) -> Path | None:
    """The spreadsheet that arrived under the expected name with another extension (an .xls or .ods
    where the pattern says .xlsx): it is read, since its content says what it is. A file of another
    type (a PDF instead of the workbook), or several candidates, is refused naming them."""
    name = Path(pattern).name
    arrived = _same_name_other_extension(inbox, pattern)
    others = [p for p in arrived if p.suffix.lower() not in SPREADSHEET_SUFFIXES]
    if others:
        listed = ", ".join(f"'{p.name}' ({p.suffix.lstrip('.').upper() or 'sin extensión'})" for p in others)
        raise InputError(f"{context}: llegó {listed}: se esperaba un libro de Excel o CSV que coincida con '{name}'.")
    if len(arrived) > 1:
        listed = ", ".join(f"'{p.name}'" for p in arrived)
        raise InputError(f"{context}: llegaron {listed} y ninguno coincide con '{name}': envíe uno solo, "
                         f"con un nombre que coincida con '{name}'.")
    return arrived[0] if arrived else None


def _kind_label(path: Path) -> str:
    """What a spreadsheet really is, by its content, in the officer's words."""
    kind = workbook.sniff(path)
    label = KIND_LABELS.get(kind, "archivo")
    suffix = path.suffix.lower()
    expected = suffix == f".{kind}" or (kind, suffix) == ("xlsx", ".xlsm") or kind == "text"
    return label if expected else f"{label} con extensión '{path.suffix}'"


def _declared_without_file(request: ExtractRequest, pattern: str) -> Extraction:
    """A month the configuration declares without movements needs no file: no rows, declared."""
    frame, _coercions, _failures = normalise_table(pd.DataFrame(), request.item.table_schema())
    source = SourceRef("file", str(Path(pattern).name), None, request.source.directorate_name)
    return Extraction(item=request.item.code, frame=frame, source=source,
                      declared_empty="en la configuración de la institución (empty_periods), sin archivo")


def _relative(path: Path, base: Path) -> Path:
    try:
        return path.relative_to(base)
    except ValueError:
        return path


# --------------------------------------------------------------------------- database connector


@register("database", DatabaseSettings, DatabaseItemOptions)
def extract_database_source(request: ExtractRequest) -> Extraction:
    config, source, item, period = request.config, request.source, request.item, request.period
    archived: list[tuple[archive.ArchivedInput, str]] = []

    def archive_raw(frame, shown_url: str) -> None:
        if request.run_id is not None:
            archived.append((archive.archive_frame(config.workspace, period, source.directorate,
                                                   raw_extract_name(source, item), frame, request.run_id,
                                                   origin=shown_url), shown_url))

    def recall(convert: Callable[[], Extraction]) -> Extraction:
        """Rows archived before with the same bytes are not mapped and typed again (``sources.memo``)."""
        if not archived:
            return convert()
        stored, shown_url = archived[0]
        key = input_key(stored.sha256, shown_url, item, item.table_schema(), request.options, source.settings,
                        source.directorate_name, period)
        return ExtractionMemo(config.workspace, item.slug, period).recall_or_extract(key, convert)

    return extract_database(source.settings, request.options, item.table_schema(), item.code, period,
                            base_dir=config.base_dir, context=request.context,
                            directorate=source.directorate_name, on_raw=archive_raw, recall=recall)


def raw_extract_name(source: SourceConfig, item: Item) -> str:
    """The archived name of a query's result as returned: one per source and item."""
    return f"{source.id}.{item.slug}.parquet"


# --------------------------------------------------------------------------- entry points


@dataclass(frozen=True)
class AwaitedFile:
    """A file source whose input for the period has not arrived: nothing under its name, in any form."""

    source: SourceConfig
    pattern: str  # the configured path with the period filled in, relative to the inbox
    items: tuple[Item, ...]  # the items it feeds that are due this period


def awaited_files(config: InstitutionConfig, period: Period) -> list[AwaitedFile]:
    """The file sources whose input for ``period`` has not arrived, by the rules extraction uses: a file
    under another extension or of another type has arrived (extraction reads or names it), and a month
    declared without movements (``empty_periods``) awaits nothing. Databases are always there."""
    awaited = []
    for source in config.sources:
        if not isinstance(source.settings, FileSettings):
            continue
        items = tuple(config.catalog.get(code) for code, options in source.items.items()
                      if config.catalog.get(code).applies and period not in options.empty_periods)
        pattern = fill_placeholders(source.settings.path, period, source.where)
        if items and not find_input(config.inbox, pattern) and not _same_name_other_extension(config.inbox, pattern):
            awaited.append(AwaitedFile(source, pattern, items))
    return awaited



def planned_extractions(config: InstitutionConfig) -> list[tuple[SourceConfig, str]]:
    """The (source, item code) pairs to extract each period: every configured item that applies
    (an item the catalog override marks ``applies: false`` is skipped)."""
    return [(source, code) for source in config.sources for code in source.items
            if config.catalog.get(code).applies]


def check_sources(config: InstitutionConfig, period: Period) -> None:
    """Pre-flight: what would stop every run of the month is a configuration error, found before
    anything is extracted or published. Each database source is read now (its secrets, a connection,
    ``SELECT 1``, bounded by its ``probe_timeout``), and no file pattern may match more than one file."""
    for source in {source.id: source for source, _ in planned_extractions(config)}.values():
        where = f"{source.directorate_name}, fuente '{source.id}'"
        if isinstance(source.settings, DatabaseSettings):
            check_database(source.settings, base_dir=config.base_dir, context=where,
                           directorate=source.directorate_name)
        elif isinstance(source.settings, FileSettings):
            pattern = fill_placeholders(source.settings.path, period, source.where)
            matches = find_input(config.inbox, pattern)
            if len(matches) > 1:
                raise ConfigError(_ambiguous(matches, pattern, config.inbox, where))


def extract_source(config: InstitutionConfig, source: SourceConfig | str, item: str, period: Period,
                   *, run_id: str | None = None) -> Extraction:
    """Extract one item from one configured source for one period (archiving inputs if ``run_id``)."""
    source = config.source(source) if isinstance(source, str) else source
    entry = config.catalog.get(item)
    if entry.code not in source.items:
        fed = ", ".join(source.items) or "ninguno"
        raise ConfigError(f"La fuente '{source.id}' ({source.directorate_name}) no alimenta el punto "
                          f"{entry.code} ({entry.name}); alimenta: {fed}")
    request = ExtractRequest(config, source, entry, source.items[entry.code], period, run_id)
    try:
        return _declared(connector(source.type, source.where).extract(request), request)
    except TransparenciaError as exc:
        if request.context in exc.message:
            raise
        public = f"{request.context}: {exc.public}" if exc.public else None
        raise type(exc)(f"{request.context}: {exc.message}", public) from None


def _declared(extraction: Extraction, request: ExtractRequest) -> Extraction:
    """Record a month the configuration declares without movements (the file's own line wins)."""
    if request.period in getattr(request.options, "empty_periods", ()) and extraction.declared_empty is None:
        extraction.declared_empty = "en la configuración de la institución (empty_periods)"
    return extraction


def extract_configured(config: InstitutionConfig, source_id: str, item_ref: str | None, period: Period) -> Extraction:
    """What ``validate --config ... --source ...`` reads: one configured source's item, not archived.
    ``item_ref`` may be omitted when the source feeds a single item."""
    source = config.source(source_id)
    if item_ref is None:
        if len(source.items) != 1:
            raise ConfigError(f"La fuente '{source.id}' alimenta varios puntos ({', '.join(source.items)}); "
                              "indique cuál validar")
        item_ref = next(iter(source.items))
    return extract_source(config, source, item_ref, period)
