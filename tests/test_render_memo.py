"""A re-render of an unchanged release reuses the files; any change, or a damaged file, renders again."""

import subprocess
import sys
from pathlib import Path

from release_samples import planilla_frame, planilla_release

from transparencia.publishers.render import render_release
from transparencia.publishers.render_memo import MEMO_NAME


def _mtimes(folder):
    return {p.name: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file() and p.name != MEMO_NAME}


def test_an_unchanged_release_is_not_rendered_again(tmp_path):
    first = render_release(planilla_release(), tmp_path)
    before = _mtimes(tmp_path)
    again = render_release(planilla_release(), tmp_path)
    assert again == first  # the same dataset and resources (paths, sha256, datastore tables)
    assert _mtimes(tmp_path) == before  # nothing written


def test_a_changed_value_or_a_damaged_file_renders_again(tmp_path):
    _, resources = render_release(planilla_release(), tmp_path)
    frame = planilla_frame("2025-01")
    frame.loc[frame.index[0], "salario_mensual"] = 1250.01
    _, changed = render_release(planilla_release(frame=frame), tmp_path)
    month_csv = {r.name: r for r in changed}["Planilla 2025-01 (CSV)"]
    assert month_csv.sha256 != {r.name: r for r in resources}["Planilla 2025-01 (CSV)"].sha256
    month_csv.path.write_text("dañado", encoding="utf-8")
    _, repaired = render_release(planilla_release(frame=frame), tmp_path)
    assert {r.name: r for r in repaired}["Planilla 2025-01 (CSV)"].sha256 == month_csv.sha256
    assert "dañado" not in month_csv.path.read_text(encoding="utf-8-sig")


def test_the_fingerprint_is_the_same_in_another_process(tmp_path):
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); from release_samples import planilla_release; "
            "from transparencia.publishers.render_memo import release_fingerprint; "
            "print(release_fingerprint(planilla_release(), ['csv', 'xlsx', 'json']))")
    prints = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
              for _ in range(2)}
    assert len(prints) == 1 and len(prints.pop().strip()) == 64
