"""The public record of a withdrawal lists every file withdrawn, also when an attempt stopped part-way."""

from __future__ import annotations

from transparencia.domain import Period
from transparencia.flows.store import MonthStore
from transparencia.publishers.render import WithdrawalRecord

FEBRUARY = Period(2025, 2)


def _entry(date: str, resources: list[str], reason: str = "Error", *, pending: bool) -> WithdrawalRecord:
    return WithdrawalRecord(date=date, period=str(FEBRUARY), resources=resources, reason=reason, pending=pending)


def test_a_stopped_attempt_and_the_one_that_finishes_make_one_entry_listing_every_file(tmp_path):
    store = MonthStore(tmp_path, "org")
    store.record_withdrawal("viaticos", _entry("2025-03-01", ["A (CSV)"], pending=False))  # an earlier withdrawal
    store.record_withdrawal("viaticos", _entry("2025-03-10", ["F (CSV)", "F (JSON)"], pending=True))
    assert store.pending_withdrawal("viaticos", FEBRUARY) is not None

    store.record_withdrawal("viaticos", _entry("2025-03-11", ["F (XLSX)", "F (JSON)"], "Motivo corregido",
                                               pending=True))
    records = store.record_withdrawal("viaticos", _entry("2025-03-11", [], "Motivo corregido", pending=False))

    assert records[0]["resources"] == ["A (CSV)"] and "pending" not in records[0]
    assert records[1] == {"date": "2025-03-10", "period": "2025-02", "reason": "Motivo corregido",
                          "resources": ["F (CSV)", "F (JSON)", "F (XLSX)"]}
    assert store.pending_withdrawal("viaticos", FEBRUARY) is None
    assert store.withdrawals("viaticos") == records


def test_a_finished_withdrawal_is_never_merged_into(tmp_path):
    store = MonthStore(tmp_path, "org")
    store.record_withdrawal("viaticos", _entry("2025-03-10", ["F (CSV)"], pending=False))
    records = store.record_withdrawal("viaticos", _entry("2025-05-02", ["F (CSV)"], pending=False))
    assert [r["date"] for r in records] == ["2025-03-10", "2025-05-02"]
