"""Observaciones: what each directorate gets back about its month, so that it can correct it.

For a period and each directorate with findings or inputs still owed, ``write_observations``
writes into the directorate's own folder (``Workspace.observations``; internal, never published):

* its own files annotated (``reports.annotate``): a copy of each file it sent, each cell with a
  finding filled and commented, and a first sheet "Observaciones" listing every finding; a
  query's findings as that list alone;
* a short letter, HTML and plain text: what is missing, what to correct (with the first findings
  and the file attached), the file name expected, the deadline and whom to ask.

Each directorate's folder, letter and files hold only its own items and findings: a directorate
never sees another's data. The result is one ``DirectorateObservations`` per directorate, the
typed hand-over to whoever sends them (e-mail).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from transparencia.domain import Deadline, ItemStatus, Period, Severity, atomic_write
from transparencia.output import templates
from transparencia.publishers.public import file_name, of_directorate, scrub
from transparencia.reports.annotate import ItemFinding, annotate_file, list_findings
from transparencia.schemas.catalog import Item
from transparencia.sources.config import Directorate, InstitutionConfig, SourceConfig
from transparencia.sources.registry import FileSettings
from transparencia.validation.findings import Finding
from transparencia.wording import count

_TEMPLATES = Path(__file__).parent / "templates"
LETTER_STEM = "carta"
ATTACHMENT_SUFFIX = "-observaciones.xlsx"
FIRST_FINDINGS = 5  # the letter quotes this many findings per item; the attachment has them all


@dataclass(frozen=True)
class ItemResult:
    """One configured item, as a run left it: what ``write_observations`` reads (``flows.observations``
    builds these from the run ledger and the raw-input archive)."""

    item: Item
    source: SourceConfig
    status: ItemStatus | None  # None when the run did not report the item
    findings: tuple[Finding, ...] = ()  # the run's errors and warnings, in full (this is local)
    archived: Path | None = None  # the archived input the run read (the file's bytes; a query's Parquet)
    problem: str | None = None  # why the input could not be read (SOURCE_ERROR), as the run said it

    @property
    def owed(self) -> bool:
        """Whether the directorate still owes the input: it did not arrive, or could not be read."""
        return self.status in (ItemStatus.NOT_RECEIVED, ItemStatus.SOURCE_ERROR)

    @property
    def remarks(self) -> tuple[Finding, ...]:
        """The findings the directorate must see: errors and warnings (notices say nothing to fix)."""
        return tuple(f for f in self.findings if f.severity in (Severity.ERROR, Severity.WARNING))


@dataclass(frozen=True)
class Owed:
    """An item whose input the directorate still owes."""

    code: str
    name: str
    expected: str  # what to send: 'un archivo llamado «planilla-2025-01.xlsx»', or the query's data
    problem: str | None = None  # None: nothing arrived; else why what arrived could not be read


@dataclass(frozen=True)
class ToCorrect:
    """An item whose input arrived with findings."""

    code: str
    name: str
    expected: str
    errors: int
    warnings: int
    attachment: str  # the annotated file's name, attached to the letter
    first: tuple[Finding, ...]  # the first findings, quoted in the letter
    annotated: bool = True  # the attachment is the directorate's own file annotated (else a query's list)


@dataclass(frozen=True)
class DirectorateObservations:
    """What one directorate gets back about one month: the hand-over to whoever sends it.

    ``directorate`` and ``name`` are the configuration's id and name; ``contacts`` its e-mail
    addresses (empty when none are configured); ``attachments`` the annotated XLSX files (its own
    files, or a query's list), all under ``folder``; ``letter_html`` and ``letter_text`` the letter's
    two bodies, also written as ``carta.html`` and ``carta.txt`` in ``folder``; ``owed`` the inputs
    that did not arrive or could not be read, ``to_correct`` those that arrived with findings;
    ``errors`` and ``warnings`` count the findings; ``deadline`` is the month's (the configured
    schedule's release after the month ends).
    """

    directorate: str
    name: str
    period: Period
    contacts: tuple[str, ...]
    deadline: Deadline
    folder: Path
    letter_html: str
    letter_text: str
    attachments: tuple[Path, ...] = ()
    owed: tuple[Owed, ...] = ()
    to_correct: tuple[ToCorrect, ...] = ()
    errors: int = 0
    warnings: int = 0

    @property
    def subject(self) -> str:
        """The letter's title, also a fitting e-mail subject."""
        return f"Observaciones de {self.period.label_es}: {self.name}"

    @property
    def letter_paths(self) -> tuple[Path, Path]:
        """The letter as written: HTML, then plain text."""
        return self.folder / f"{LETTER_STEM}.html", self.folder / f"{LETTER_STEM}.txt"


@dataclass(frozen=True)
class _Letter:
    """What the letter's templates read."""

    institution: str
    directorate: str
    of_directorate: str
    period: str
    deadline: str
    officer: str | None
    officer_email: str | None
    owed: tuple[Owed, ...]
    to_correct: tuple[ToCorrect, ...]


def write_observations(config: InstitutionConfig, period: Period, results: Sequence[ItemResult],
                       out_dir: Path | None = None, only: str | None = None) -> list[DirectorateObservations]:
    """Write the month's observaciones of every directorate (of ``only``, an id, when given) under
    ``out_dir`` (by default the workspace's), one folder each, replacing what an earlier run wrote
    there; a directorate with nothing to say gets no folder. Returns one result per directorate written."""
    root = out_dir if out_dir is not None else config.workspace.observations(period)
    written = []
    for directorate in config.directorates:
        if only is not None and directorate.id != only:
            continue
        folder = root / directorate.id
        _clear(folder)
        mine = [r for r in results if r.source.directorate == directorate.id]
        if any(r.owed or r.remarks for r in mine):
            written.append(_directorate(config, period, directorate, mine, folder))
    return written


def _clear(folder: Path) -> None:
    """Remove what an earlier run wrote for the directorate (a corrected file leaves nothing behind),
    and only that: ``-o`` may name a folder that holds other files."""
    if not folder.is_dir():
        return
    for path in (*folder.glob(f"{LETTER_STEM}.*"), *folder.glob(f"*{ATTACHMENT_SUFFIX}")):
        path.unlink()
    if not any(folder.iterdir()):
        folder.rmdir()


def _directorate(config: InstitutionConfig, period: Period, directorate: Directorate, results: list[ItemResult],
                 folder: Path) -> DirectorateObservations:
    owed = tuple(_owed(r, period) for r in results if r.owed)
    attachments, to_correct = _attachments([r for r in results if r.remarks and not r.owed], period, folder)
    inst, deadline = config.institution, config.schedule.deadline(period)
    letter = _Letter(inst.name, directorate.name, of_directorate(directorate.name), period.label_es,
                     deadline.label_es, inst.maintainer, inst.officer_email or inst.maintainer_email,
                     owed, to_correct)
    html, text = _render(letter, "html"), _render(letter, "txt")
    result = DirectorateObservations(
        directorate.id, directorate.name, period, tuple(directorate.contacts), deadline, folder, html, text,
        attachments, owed, to_correct, errors=sum(c.errors for c in to_correct),
        warnings=sum(c.warnings for c in to_correct))
    for path, body in zip(result.letter_paths, (html, text)):
        atomic_write(path, body.encode("utf-8"))
    return result


def _owed(result: ItemResult, period: Period) -> Owed:
    problem = scrub(result.problem) if result.problem else None
    if result.status is ItemStatus.SOURCE_ERROR and problem is None:
        problem = "no se pudo leer"
    return Owed(result.item.code, result.item.name, expected_input(result.source, period), problem)


def _attachments(results: list[ItemResult], period: Period, folder: Path) -> tuple[tuple[Path, ...], tuple[ToCorrect, ...]]:
    """One annotated file per input that arrived with findings (a file feeding two items is one
    attachment), and what the letter says of each item."""
    groups: dict[Path | str, list[ItemResult]] = {}
    for r in results:
        groups.setdefault(r.archived if _is_file(r) and r.archived else f"{r.source.id}.{r.item.slug}", []).append(r)
    attachments, to_correct = [], []
    for key, group in groups.items():
        entries = [ItemFinding(f"{r.item.code} {r.item.name}", f) for r in group for f in r.remarks]
        if isinstance(key, Path):
            target = folder / f"{_stem(group[0])}{ATTACHMENT_SUFFIX}"
            attachments.append(annotate_file(key, entries, target))
        else:
            target = folder / f"{group[0].source.id}-{group[0].item.slug}{ATTACHMENT_SUFFIX}"
            attachments.append(list_findings(entries, target))
        to_correct += [_to_correct(r, period, target.name, isinstance(key, Path)) for r in group]
    return tuple(attachments), tuple(to_correct)


def _to_correct(result: ItemResult, period: Period, attachment: str, annotated: bool) -> ToCorrect:
    remarks = result.remarks
    errors = sum(1 for f in remarks if f.severity is Severity.ERROR)
    return ToCorrect(result.item.code, result.item.name, expected_input(result.source, period), errors,
                     len(remarks) - errors, attachment, remarks[:FIRST_FINDINGS], annotated)


def _is_file(result: ItemResult) -> bool:
    return isinstance(result.source.settings, FileSettings)


def _stem(result: ItemResult) -> str:
    """The name of the file the directorate sent, without its extension."""
    sent = next((f.file for f in result.findings if f.file), None) or (result.archived.name if result.archived else "")
    return Path(file_name(sent) or result.item.slug).stem


def expected_input(source: SourceConfig, period: Period) -> str:
    """What the directorate sends for the month: its file, by the name to give it (the inbox's folders
    are the officer's business), or, for a query, the data the query reads."""
    if isinstance(source.settings, FileSettings):
        return f"un archivo llamado «{source.settings.file_name(period)}»"
    return f"los datos de su base de datos (fuente «{source.id}»)"


def _render(letter: _Letter, fmt: str) -> str:
    env = templates.environment(_TEMPLATES, filters={"count": count})
    return env.get_template(f"observaciones.{fmt}.j2").render(letter=letter)
