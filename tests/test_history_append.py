"""The history CSV and JSON grow by the new month's rows only when that gives the full write's bytes.

Each case renders months one after another into one build folder (where the history may grow) and
each month again into a new folder (always a full write), and compares the history files byte for byte.
"""

import dataclasses
import json

import pandas as pd
import pytest
from release_samples import planilla_frame, planilla_release

from transparencia.domain import Period
from transparencia.publishers import history_memo
from transparencia.publishers.history_memo import SIDECAR_NAME
from transparencia.publishers.render import render_release, render_withdrawal
from transparencia.publishers.render_memo import frame_digest

HISTORY = ("planilla-historico.csv", "planilla-historico.json", "planilla-historico.xlsx")
CARGOS = ["Analista", "=SUM(A1:A2)", "+50766667777", "-Conductor", "@usuario", "Jefa \"de\" sección, 1.ª",
          "Línea\r\nnueva", "\tTabulada", None]
CEDULAS = ["8-765-4321", "PE-1234-12345", "8-***-4567", "3AV-12-345", "E-8-123456", "N-1-1", "13PI-22-7"]


def _people(month: int, count: int) -> list[dict]:
    """``count`` people of month ``month``: cédulas of every shape, formula-like and quoted cargos,
    missing values, amounts with many decimals and old dates."""
    return [{"nombre": f"Persona {month}-{i}", "apellido": None if i % 5 == 0 else f"Apellido{i}",
             "cedula": CEDULAS[(i + month) % len(CEDULAS)], "cargo": CARGOS[(i * month) % len(CARGOS)],
             "salario_mensual": 1000 + i * 0.1 + month / 3, "gasto_representacion": float(i % 3) * 1e-7,
             "fecha_inicio": f"{1950 + i % 70}-0{1 + i % 9}-1{i % 9}"} for i in range(count)]


def _months(*specs: tuple[str, int]) -> dict[str, pd.DataFrame]:
    """Months by AAAA-MM, each with its number of rows (0: declared without movements)."""
    return {period: planilla_frame(period, _people(int(period[-2:]), rows)) for period, rows in specs}


def _release(months: dict[str, pd.DataFrame], period: str, privacy: dict | None = None):
    """The release of ``period`` whose history is ``months``, with each month's content key as the store
    gives it."""
    history = pd.concat([months[p] for p in sorted(months)])
    release = planilla_release(period, history=history, frame=months[period], privacy=privacy)
    keys = {Period.parse(p): frame_digest(frame).hex() for p, frame in months.items()}
    return dataclasses.replace(release, month_keys=keys)


@pytest.fixture
def written(monkeypatch):
    """The names of the history files that grew rather than being written in full."""
    names: list[str] = []
    grown = history_memo._grown

    def recording(path, *args):
        sha256 = grown(path, *args)
        if sha256 is not None:
            names.append(path.name)
        return sha256

    monkeypatch.setattr(history_memo, "_grown", recording)
    return names


def _publish(folder, release, full_folder, grown: list[str]) -> bool:
    """Render ``release`` in ``folder`` and, fully, in ``full_folder``: the history files must match
    byte for byte. True when the CSV and JSON history grew rather than being written again."""
    grown.clear()
    render_release(release, folder)
    grew = sorted(grown) == ["planilla-historico.csv", "planilla-historico.json"]
    assert grew or not grown  # both formats grow, or neither
    render_release(dataclasses.replace(release, month_keys=None), full_folder)
    for name in HISTORY:
        assert (folder / name).read_bytes() == (full_folder / name).read_bytes(), name
    return grew


def test_months_in_order_grow_the_history_with_the_full_writes_bytes(tmp_path, written):
    months = _months(("2025-01", 7), ("2025-02", 9), ("2025-03", 0), ("2025-04", 12), ("2025-05", 1))
    grew = []
    for n, period in enumerate(sorted(months), 1):
        shown = {p: months[p] for p in sorted(months)[:n]}
        grew.append(_publish(tmp_path / "build", _release(shown, period), tmp_path / f"full-{period}", written))
    assert grew == [False, True, True, True, True]  # the first month is copied from the month's files
    assert json.loads((tmp_path / "build" / SIDECAR_NAME).read_text())["csv"]["months"][-1][0] == "2025-05"


@pytest.mark.parametrize("privacy", [{"apellido": "omit", "cedula": "omit"}, {"cedula": "publish", "nombre": "mask"}])
def test_omitted_and_masked_columns_grow_alike(tmp_path, written, privacy):
    months = _months(("2025-01", 3), ("2025-02", 4), ("2025-03", 5))
    for n, period in enumerate(sorted(months), 1):
        shown = {p: months[p] for p in sorted(months)[:n]}
        grew = _publish(tmp_path / "build", _release(shown, period, privacy), tmp_path / f"full-{period}", written)
        assert grew == (n > 1)


def test_an_empty_first_month_then_rows(tmp_path, written):
    months = _months(("2025-01", 0), ("2025-02", 0), ("2025-03", 2))
    grew = [_publish(tmp_path / "build", _release({p: months[p] for p in sorted(months)[:n]}, p),
                     tmp_path / f"full-{p}", written) for n, p in enumerate(sorted(months), 1)]
    assert grew == [False, True, True]


def test_an_earlier_month_published_late_is_a_full_write_then_growth_resumes(tmp_path, written):
    months = _months(("2025-01", 3), ("2025-02", 4), ("2025-03", 5), ("2025-04", 2))
    order = ["2025-01", "2025-03", "2025-02", "2025-04"]
    grew = [_publish(tmp_path / "build", _release({p: months[p] for p in order[:n]}, period),
                     tmp_path / f"full-{period}", written) for n, period in enumerate(order, 1)]
    assert grew == [False, True, False, True]


def test_a_changed_earlier_month_is_not_reused(tmp_path, written):
    months = _months(("2025-01", 3), ("2025-02", 4))
    _publish(tmp_path / "build", _release({"2025-01": months["2025-01"]}, "2025-01"), tmp_path / "f1", written)
    _publish(tmp_path / "build", _release(months, "2025-02"), tmp_path / "f2", written)
    corrected = {**months, "2025-01": planilla_frame("2025-01", _people(1, 3)[:2]), **_months(("2025-03", 2))}
    assert not _publish(tmp_path / "build", _release(corrected, "2025-03"), tmp_path / "f3", written)


def test_the_latest_month_re_run_with_other_rows_is_a_full_write(tmp_path, written):
    months = _months(("2025-01", 3), ("2025-02", 4))
    for period in sorted(months):
        _publish(tmp_path / "build", _release({p: months[p] for p in months if p <= period}, period),
                 tmp_path / f"f-{period}", written)
    corrected = {**months, "2025-02": planilla_frame("2025-02", _people(2, 6))}
    assert not _publish(tmp_path / "build", _release(corrected, "2025-02"), tmp_path / "again", written)


def test_an_altered_history_file_is_not_reused(tmp_path, written):
    months = _months(("2025-01", 3), ("2025-02", 4), ("2025-03", 2))
    build = tmp_path / "build"
    for period in ("2025-01", "2025-02"):
        _publish(build, _release({p: months[p] for p in months if p <= period}, period), tmp_path / period, written)
    for name in ("planilla-historico.csv", "planilla-historico.json"):
        data = (build / name).read_bytes()
        (build / name).write_bytes(data.replace(b"Persona", b"Persono", 1))  # same size, other bytes
    assert not _publish(build, _release(months, "2025-03"), tmp_path / "full", written)


def test_a_withdrawn_month_is_a_full_write(tmp_path, written):
    months = _months(("2025-01", 3), ("2025-02", 4), ("2025-03", 2), ("2025-04", 3))
    build = tmp_path / "build"
    for period in ("2025-01", "2025-02", "2025-03"):
        _publish(build, _release({p: months[p] for p in months if p <= period}, period), tmp_path / period, written)
    remaining = {p: months[p] for p in ("2025-01", "2025-03", "2025-04")}  # 2025-02 withdrawn
    assert not _publish(build, _release(remaining, "2025-04"), tmp_path / "full", written)


def test_render_withdrawal_writes_in_full_and_the_next_month_grows_from_it(tmp_path, written):
    months = _months(("2025-01", 3), ("2025-02", 4), ("2025-03", 2))
    build = tmp_path / "build"
    for period in ("2025-01", "2025-02"):
        _publish(build, _release({p: months[p] for p in months if p <= period}, period), tmp_path / period, written)
    kept = {"2025-01": months["2025-01"]}
    withdrawal = dataclasses.replace(_release(kept, "2025-01"), period=Period(2025, 2), frame=months["2025-02"].iloc[0:0])
    render_withdrawal(withdrawal, [], build)
    assert json.loads((build / SIDECAR_NAME).read_text())["csv"]["months"] == [["2025-01", _release(kept, "2025-01").month_keys[Period(2025, 1)]]]
    assert _publish(build, _release({**kept, "2025-03": months["2025-03"]}, "2025-03"), tmp_path / "full", written)


def test_unknown_month_keys_write_in_full_and_record_nothing(tmp_path, written):
    months = _months(("2025-01", 3), ("2025-02", 4))
    build = tmp_path / "build"
    _publish(build, _release({"2025-01": months["2025-01"]}, "2025-01"), tmp_path / "f1", written)
    render_release(dataclasses.replace(_release(months, "2025-02"), month_keys=None), build)
    assert not (build / SIDECAR_NAME).exists()


@pytest.mark.parametrize("privacy", [{"apellido": "mask"}, {"cedula": "omit"}])
def test_another_privacy_treatment_is_a_full_write(tmp_path, written, privacy):
    months = _months(("2025-01", 3), ("2025-02", 4))
    _publish(tmp_path / "build", _release({"2025-01": months["2025-01"]}, "2025-01"), tmp_path / "f1", written)
    assert not _publish(tmp_path / "build", _release(months, "2025-02", privacy), tmp_path / "f2", written)


def test_a_history_month_without_its_key_vouches_for_nothing(tmp_path, written):
    months = _months(("2025-01", 3), ("2025-02", 4), ("2025-03", 2))
    build = tmp_path / "build"
    _publish(build, _release({"2025-01": months["2025-01"]}, "2025-01"), tmp_path / "f1", written)
    for period, shown in (("2025-02", months), ("2025-03", {**months, "2025-02": planilla_frame("2025-02", _people(2, 6))})):
        release = _release({p: shown[p] for p in shown if p <= period}, period)
        unvouched = {p: k for p, k in release.month_keys.items() if p != Period(2025, 2)}
        assert not _publish(build, dataclasses.replace(release, month_keys=unvouched), tmp_path / period, written)
