"""The store of published months: each item's validated, normalised month as Parquet.

Layout: ``<data_dir>/store/<organization>/<item-slug>/<period>.parquet`` plus a sidecar
``<period>.json`` (rows, sha256 of the Parquet bytes, the date the month's content last changed, and
the sha256 of the month's CSV as the target holds it).
An item's history is all its stored months. Only a valid month is ever saved, so a rejected
month leaves the earlier ones exactly as they were; saving the same content again writes nothing
and keeps the recorded date, which is what makes a re-run of a month a no-op. A month withdrawn
(``transparencia retirar``) is removed, and the withdrawal recorded in ``retiros.json``.

The store is a cache of what is online (``flows.online``): a month the target holds that the store
lacks, or holds with other bytes, is read back from the target in its published form (cédulas
masked, omitted columns empty) and saved with ``public_sha256``, which then tells it is current.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Set
from dataclasses import dataclass
from pathlib import Path
from typing import NotRequired, TypedDict

import pandas as pd

from transparencia.domain import Period, atomic_write, sha256_bytes
from transparencia.publishers.render import WithdrawalRecord
from transparencia.sources.config import InstitutionConfig

WITHDRAWALS_FILE = "retiros.json"  # beside the months: the public record of withdrawn ones


class MonthMeta(TypedDict):
    """A stored month's sidecar, ``<period>.json``."""

    period: str  # AAAA-MM, as the file is named
    rows: int
    sha256: str
    updated: str  # ISO date the content last changed
    public_sha256: NotRequired[str]  # the month's CSV as last published or read back from the target


@dataclass(frozen=True)
class StoredMonth:
    period: Period
    path: Path
    rows: int
    sha256: str
    updated: str  # ISO date the content last changed
    written: bool  # True when this call changed the stored bytes


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.reset_index(drop=True).to_parquet(buffer, index=False, engine="pyarrow", compression="zstd")
    return buffer.getvalue()


class MonthStore:
    def __init__(self, root: Path, organization: str):
        self.root = Path(root) / organization

    @classmethod
    def of(cls, config: InstitutionConfig) -> MonthStore:
        """The institution's store: ``<data_dir>/store/<organization>`` (``Workspace.store``)."""
        return cls(config.workspace.store, config.institution.organization)

    def folder(self, slug: str) -> Path:
        return self.root / slug

    def months(self, slug: str) -> list[Period]:
        """The item's stored months, oldest first (read from the file names, AAAA-MM)."""
        folder = self.folder(slug)
        return sorted(Period.parse(p.stem) for p in folder.glob("*.parquet")) if folder.is_dir() else []

    def meta(self, slug: str, period: Period) -> MonthMeta | None:
        path = self.folder(slug) / f"{period}.json"
        if not path.exists():
            return None
        meta: MonthMeta = json.loads(path.read_text(encoding="utf-8"))
        return meta

    def save(self, slug: str, period: Period, frame: pd.DataFrame, today: dt.date | None = None) -> StoredMonth:
        """Store a validated month; identical content is left untouched."""
        folder = self.folder(slug)
        folder.mkdir(parents=True, exist_ok=True)
        data = _parquet_bytes(frame)
        digest = sha256_bytes(data)
        previous = self.meta(slug, period)
        target = folder / f"{period}.parquet"
        if previous and previous["sha256"] == digest and target.exists():
            return StoredMonth(period, target, previous["rows"], digest, previous["updated"], written=False)
        updated = (today or dt.date.today()).isoformat()
        atomic_write(target, data)
        meta: MonthMeta = {"period": str(period), "rows": len(frame), "sha256": digest, "updated": updated}
        atomic_write(folder / f"{period}.json", json.dumps(meta, indent=2).encode("utf-8"))
        return StoredMonth(period, target, len(frame), digest, updated, written=True)

    def record_public(self, slug: str, period: Period, sha256: str) -> None:
        """Record the sha256 of the month's CSV as the target holds it (nothing written when recorded)."""
        meta = self.meta(slug, period)
        if meta is not None and meta.get("public_sha256") != sha256:
            meta["public_sha256"] = sha256
            atomic_write(self.folder(slug) / f"{period}.json", json.dumps(meta, indent=2).encode("utf-8"))

    def load(self, slug: str, period: Period, columns: list[str] | None = None) -> pd.DataFrame:
        return pd.read_parquet(self.folder(slug) / f"{period}.parquet", columns=columns)

    def other_months(self, slug: str, period: Period, columns: list[str]) -> dict[str, pd.DataFrame]:
        """``columns`` of every stored month but ``period``: what a new month must not repeat. Keyed by
        AAAA-MM, the text a period-fidelity finding names the other month by."""
        if not columns:
            return {}
        return {str(other): self.load(slug, other, columns) for other in self.months(slug) if other != period}

    def rows(self, slug: str) -> int:
        """The rows of every stored month, as their sidecars record them (the history's length)."""
        return sum(meta["rows"] for meta in (self.meta(slug, m) for m in self.months(slug)) if meta)

    def remove(self, slug: str, period: Period) -> bool:
        """Forget a withdrawn month (its Parquet and sidecar); False when it was not stored."""
        folder = self.folder(slug)
        stored = (folder / f"{period}.parquet").exists()
        for suffix in (".parquet", ".json"):
            (folder / f"{period}{suffix}").unlink(missing_ok=True)
        return stored

    def withdrawals(self, slug: str) -> list[WithdrawalRecord]:
        """The item's public record of withdrawn months, oldest first."""
        path = self.folder(slug) / WITHDRAWALS_FILE
        records: list[WithdrawalRecord] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
        return records

    def record_withdrawal(self, slug: str, entry: WithdrawalRecord) -> list[WithdrawalRecord]:
        """Add ``entry`` to the item's record. An entry of the same month still ``pending`` (an attempt
        that stopped before its record was published) is completed by it instead: one entry, dated
        when the first files went, listing every file either attempt withdrew."""
        records = self.withdrawals(slug)
        unfinished = self.pending_withdrawal(slug, Period.parse(entry["period"]))
        if unfinished is not None:
            records.pop()
            entry = WithdrawalRecord(date=unfinished["date"], period=entry["period"], reason=entry["reason"],
                                     resources=list(dict.fromkeys([*unfinished["resources"], *entry["resources"]])),
                                     pending=entry.get("pending", False))
        if not entry.get("pending"):
            entry.pop("pending", None)
        return self._save_withdrawals(slug, [*records, entry])

    def pending_withdrawal(self, slug: str, period: Period) -> WithdrawalRecord | None:
        """The month's withdrawal whose record is not yet published, if an attempt left one."""
        records = self.withdrawals(slug)
        last = records[-1] if records else None
        return last if last is not None and last.get("pending") and last["period"] == str(period) else None

    def _save_withdrawals(self, slug: str, records: list[WithdrawalRecord]) -> list[WithdrawalRecord]:
        folder = self.folder(slug)
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / WITHDRAWALS_FILE, json.dumps(records, ensure_ascii=False, indent=2).encode("utf-8"))
        return records

    def history(self, slug: str, months: Set[Period] | None = None) -> pd.DataFrame:
        """Every stored month of an item, or only ``months``, oldest first (empty frame when none)."""
        frames = [self.load(slug, period) for period in self.months(slug) if months is None or period in months]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
