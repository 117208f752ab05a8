"""The data folder's layout: where every file the tool keeps for an institution lives.

One ``data_dir`` per institution (``data_dir`` in its configuration) holds:

  raw/<period>/                        the inputs exactly as they arrived, and their manifest.json
  store/<organization>/<item>/         each item's validated months as Parquet (``flows.store``)
  build/<organization>/<item>/         an item's files as rendered before publishing (the compliance
                                       report's tables under its dataset's name)
  runs/<period>/<run-id>.json          the run ledger, beside its journal of portal writes
  runs/<period>/correos.json           every e-mail sent about the month (to whom, what, its content hash)
  reports/<period>/                    the month's compliance report, one file per format
  interno/<period>/                    the officer's internal reports (punctuality), never published
  cache/extraccion/                    the last extraction of each item and month from its archived input
  cache/validacion/                    the last validation report of each item and month
  observaciones/<period>/<directorate>/  what each directorate gets back: its annotated files, its letter
  prefect/                             Prefect's home (its database), unless PREFECT_HOME is set
  preview/<period>/                    a dry run's preview: the report as it would be, the rendered files,
                                       its ledger; a dry run writes nothing else in the data folder

The folder names and file names are spelled here only; every module asks the ``Workspace`` for a
path, so a change of layout is one change. The paths are those users and scripts already rely on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from transparencia.domain.period import Period

RAW_MANIFEST = "manifest.json"
REPORT_STEM = "informe-cumplimiento"


@dataclass(frozen=True)
class Workspace:
    """The layout of one institution's data folder (``root``); it creates nothing by itself."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    def raw(self, period: Period) -> Path:
        """The month's raw-input archive (``sources.archive``)."""
        return self.root / "raw" / str(period)

    def raw_manifest(self, period: Period) -> Path:
        return self.raw(period) / RAW_MANIFEST

    @property
    def store(self) -> Path:
        """The store of validated months, one folder per organization."""
        return self.root / "store"

    @property
    def build(self) -> Path:
        """Where items are rendered before publishing, one folder per organization."""
        return self.root / "build"

    def build_dir(self, organization: str, slug: str) -> Path:
        """One item's rendered files, beside the manifest the read-back verification reads."""
        return self.build / organization / slug

    def runs(self, period: Period) -> Path:
        return self.root / "runs" / str(period)

    def ledger(self, period: Period, run_id: str) -> Path:
        """A run's ledger (``flows.ledger.RunLedger``)."""
        return self.runs(period) / f"{run_id}.json"

    def write_journal(self, period: Period, run_id: str) -> Path:
        """A run's journal of portal writes, beside its ledger."""
        return self.runs(period) / f"{run_id}.escrituras.jsonl"

    def internal_report(self, period: Period, name: str) -> Path:
        """One of the officer's internal reports of the month (``puntualidad-<period>.md``): kept apart
        from ``reports/``, whose files are published."""
        return self.root / "interno" / str(period) / name

    def mail_log(self, period: Period) -> Path:
        """What was e-mailed about the month, across its runs (``flows.notify.MailLog``)."""
        return self.runs(period) / "correos.json"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    def report_dir(self, period: Period) -> Path:
        return self.reports / str(period)

    def report_file(self, period: Period, fmt: str) -> Path:
        """The month's compliance report in ``fmt`` (html, json or md)."""
        return self.report_dir(period) / report_file_name(period, fmt)

    def report_files(self, fmt: str) -> list[Path]:
        """Every month's compliance report written in ``fmt``, oldest month first."""
        return sorted(self.reports.glob(f"*/{REPORT_STEM}-*.{fmt}"))

    def observations(self, period: Period) -> Path:
        """The month's observaciones, one folder per directorate (internal: never published)."""
        return self.root / "observaciones" / str(period)

    @property
    def extraction_cache(self) -> Path:
        """The memo of extractions from archived inputs (``sources.memo``)."""
        return self.root / "cache" / "extraccion"

    def extraction_files(self, slug: str, period: Period) -> tuple[Path, Path]:
        """The memo of an item's month: its rows (Parquet) and the rest of its account (a pickle)."""
        return (self.extraction_cache / f"{slug}-{period}.parquet", self.extraction_cache / f"{slug}-{period}.pickle")

    @property
    def validation_cache(self) -> Path:
        """The memo of validation reports (``flows.memo``)."""
        return self.root / "cache" / "validacion"

    def validation_file(self, slug: str, period: Period) -> Path:
        return self.validation_cache / f"{slug}-{period}.pickle"

    def preview(self, period: Period) -> Path:
        """A dry run's preview of the month (``transparencia run --dry-run``), the only place it writes."""
        return self.root / "preview" / str(period)

    def preview_build_dir(self, period: Period, organization: str, slug: str) -> Path:
        """An item's files as a dry run renders them, to be looked at, never published."""
        return self.preview(period) / organization / slug

    def preview_observations(self, period: Period) -> Path:
        """A dry run's observaciones for the directorates, beside its preview report."""
        return self.preview(period) / "observaciones"

    def preview_ledger(self, period: Period, run_id: str) -> Path:
        return self.preview(period) / f"{run_id}.json"

    @property
    def prefect_home(self) -> Path:
        """Prefect's home for this institution's runs (``flows.environment.configure_prefect``)."""
        return self.root / "prefect"


def report_file_name(period: Period, fmt: str) -> str:
    """``informe-cumplimiento-2025-01.json``: the compliance report's file name, wherever it is written."""
    return f"{REPORT_STEM}-{period}.{fmt}"


def report_history_file_name(fmt: str) -> str:
    """``informe-cumplimiento-historico.csv``: every month's report in one file."""
    return f"{REPORT_STEM}-historico.{fmt}"

