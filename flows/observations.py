"""The observaciones of a run, for every directorate: read from what the run recorded.

Orchestration only: the run ledger says each item's status, findings and errors; the raw-input
archive which bytes the run read; ``reports.observaciones`` writes the annotated files and the
letters. The release calls ``of_run`` with its own ledger at its end, and ``transparencia
observaciones`` with the month's last ledger (``on_demand``), so both give the same observaciones
for the same run.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from transparencia.domain import ItemStatus, Period
from transparencia.errors import InputError
from transparencia.flows.ledger import latest_ledger
from transparencia.reports.observaciones import DirectorateObservations, ItemResult, write_observations
from transparencia.schemas.catalog import Item
from transparencia.sources.archive import run_input_path
from transparencia.sources.config import InstitutionConfig, SourceConfig
from transparencia.sources.registry import FileSettings, planned_extractions, raw_extract_name
from transparencia.validation.findings import Finding


def of_run(config: InstitutionConfig, period: Period, ledger: Mapping[str, Any], out_dir: Path | None = None,
           only: str | None = None) -> list[DirectorateObservations]:
    """Write the observaciones of the run ``ledger`` records (``RunLedger.to_dict()``)."""
    results = [_item_result(config, period, ledger, source, config.catalog.get(code))
               for source, code in planned_extractions(config)]
    return write_observations(config, period, results, out_dir, only)


def on_demand(config: InstitutionConfig, period: Period, only: str | None = None,
              out_dir: Path | None = None) -> list[DirectorateObservations]:
    """The observaciones of the month's last run, written again from its ledger and archived inputs."""
    if only is not None:
        config.directorate(only)  # an unknown directorate is a configuration error, named
    ledger = latest_ledger(config.workspace, period)
    if ledger is None:
        raise InputError(f"El período {period} no se ha ejecutado nunca con esta configuración: no hay "
                         f"observaciones que preparar. Ejecute primero 'transparencia run --period {period}'.")
    return of_run(config, period, ledger, out_dir, only)


def _item_result(config: InstitutionConfig, period: Period, ledger: Mapping[str, Any], source: SourceConfig,
                 item: Item) -> ItemResult:
    state = ledger.get("items", {}).get(item.code, {})
    findings = tuple(Finding.from_dict(f) for f in ledger.get("findings", {}).get(item.code, []))
    prefix = f"{item.code}: "
    problem = next((e.removeprefix(prefix) for e in ledger.get("errors", []) if e.startswith(prefix)), None)
    return ItemResult(item, source, ItemStatus(state["status"]) if state.get("status") else None, findings,
                      _archived(config, period, str(ledger["run_id"]), source, item, findings), problem)


def _archived(config: InstitutionConfig, period: Period, run_id: str, source: SourceConfig, item: Item,
              findings: tuple[Finding, ...]) -> Path | None:
    """The archived input the run read for the item: a file by its inbox name, a query's result by its name."""
    if isinstance(source.settings, FileSettings):
        origin = next((f.file for f in findings if f.file), None)
        if origin is None:
            return None
        return run_input_path(config.workspace, period, run_id, source.directorate, origin=origin)
    return run_input_path(config.workspace, period, run_id, source.directorate, name=raw_extract_name(source, item))
