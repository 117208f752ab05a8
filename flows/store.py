"""The store of published months: each item's validated, normalised month as Parquet.

Layout: ``<data_dir>/store/<organization>/<item-slug>/<period>.parquet`` plus a sidecar
``<period>.json`` (rows, sha256 of the Parquet bytes, the date the month's content last changed).
An item's history is all its stored months. Only a valid month is ever saved, so a rejected
month leaves the earlier ones exactly as they were; saving the same content again writes nothing
and keeps the recorded date, which is what makes a re-run of a month a no-op. A month withdrawn
(``transparencia retirar``) is removed, and the withdrawal recorded in ``retiros.json``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from transparencia.domain import atomic_write, sha256_bytes

if TYPE_CHECKING:
    from transparencia.sources.config import InstitutionConfig

WITHDRAWALS_FILE = "retiros.json"  # beside the months: the public record of withdrawn ones


@dataclass(frozen=True)
class StoredMonth:
    period: str
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

    def months(self, slug: str) -> list[str]:
        folder = self.folder(slug)
        return sorted(p.stem for p in folder.glob("*.parquet")) if folder.is_dir() else []

    def meta(self, slug: str, period: str) -> dict | None:
        path = self.folder(slug) / f"{period}.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

    def save(self, slug: str, period: str, frame: pd.DataFrame, today: dt.date | None = None) -> StoredMonth:
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
        meta = {"period": period, "rows": len(frame), "sha256": digest, "updated": updated}
        atomic_write(folder / f"{period}.json", json.dumps(meta, indent=2).encode("utf-8"))
        return StoredMonth(period, target, len(frame), digest, updated, written=True)

    def load(self, slug: str, period: str, columns: list[str] | None = None) -> pd.DataFrame:
        return pd.read_parquet(self.folder(slug) / f"{period}.parquet", columns=columns)

    def other_months(self, slug: str, period: str, columns: list[str]) -> dict[str, pd.DataFrame]:
        """``columns`` of every stored month but ``period``: what a new month must not repeat."""
        if not columns:
            return {}
        return {other: self.load(slug, other, columns) for other in self.months(slug) if other != period}

    def remove(self, slug: str, period: str) -> bool:
        """Forget a withdrawn month (its Parquet and sidecar); False when it was not stored."""
        folder = self.folder(slug)
        stored = (folder / f"{period}.parquet").exists()
        for suffix in (".parquet", ".json"):
            (folder / f"{period}{suffix}").unlink(missing_ok=True)
        return stored

    def withdrawals(self, slug: str) -> list[dict]:
        """The item's public record of withdrawn months, oldest first."""
        path = self.folder(slug) / WITHDRAWALS_FILE
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []

    def record_withdrawal(self, slug: str, entry: dict) -> list[dict]:
        folder = self.folder(slug)
        folder.mkdir(parents=True, exist_ok=True)
        records = [*self.withdrawals(slug), entry]
        atomic_write(folder / WITHDRAWALS_FILE, json.dumps(records, ensure_ascii=False, indent=2).encode("utf-8"))
        return records

    def history(self, slug: str) -> pd.DataFrame:
        """Every stored month of an item, oldest first (empty frame when nothing is stored)."""
        frames = [self.load(slug, period) for period in self.months(slug)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
