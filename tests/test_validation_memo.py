"""A re-validation of the same extraction reuses the report; any change in what validation reads does not."""

import dataclasses
import os
import pickle

from release_samples import planilla_frame

from transparencia.domain import Period, Workspace
from transparencia.flows.memo import ValidationMemo, validation_key
from transparencia.schemas.catalog import load_catalog
from transparencia.sources.extraction import CellFailure, Extraction, SourceRef
from transparencia.validation import validate

ITEM = load_catalog().get("planilla")
JANUARY, FEBRUARY = Period.parse("2025-01"), Period.parse("2025-02")


def extraction(**changes) -> Extraction:
    base = Extraction("11.3", planilla_frame("2025-01"), SourceRef("file", "planilla.xlsx", "Hoja1", "rrhh"))
    return dataclasses.replace(base, **changes)


def test_the_same_inputs_give_the_same_key_and_any_change_another():
    key = validation_key(extraction(), ITEM, JANUARY, {})
    assert validation_key(extraction(), ITEM, JANUARY, {}) == key
    frame = planilla_frame("2025-01")
    frame.loc[frame.index[0], "salario_mensual"] = 1.0
    failure = CellFailure(3, "salario_mensual", "mil", "un monto")
    assert len({key, validation_key(extraction(frame=frame), ITEM, JANUARY, {}),
                validation_key(extraction(failures=[failure]), ITEM, JANUARY, {}),
                validation_key(extraction(), ITEM, FEBRUARY, {}),
                validation_key(extraction(), ITEM, JANUARY, {"2024-12": planilla_frame("2024-12")})}) == 5


def test_a_stored_report_answers_only_its_key(tmp_path):
    memo = ValidationMemo(Workspace(tmp_path))
    report = validate(extraction(), ITEM, period="2025-01")
    memo.save("planilla", JANUARY, "k1", report)
    assert memo.load("planilla", JANUARY, "k1") == report
    assert memo.load("planilla", JANUARY, "k2") is None
    (tmp_path / "cache" / "validacion" / "planilla-2025-01.pickle").write_bytes(b"roto")
    assert memo.load("planilla", JANUARY, "k1") is None


class _Planted:
    """A pickle that would run a command when loaded by a plain ``pickle.load``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_a_planted_pickle_is_refused_without_running_anything(tmp_path):
    memo = ValidationMemo(Workspace(tmp_path))
    memo.save("planilla", JANUARY, "k1", validate(extraction(), ITEM, period="2025-01"))
    marker = tmp_path / "ran"
    planted = pickle.dumps(("k1", _Planted(marker)))
    (tmp_path / "cache" / "validacion" / "planilla-2025-01.pickle").write_bytes(planted)
    assert memo.load("planilla", JANUARY, "k1") is None
    assert not marker.exists()
