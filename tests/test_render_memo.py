"""A re-render of an unchanged release reuses the files; any change, or a damaged file, renders again."""

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from release_samples import planilla_frame, planilla_release

from transparencia.publishers.render import render_release
from transparencia.publishers.render_memo import MAPPED_STAGES, MEMO_NAME, code_fingerprint, package_files

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIRS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-dir"]


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


def test_the_mapped_stages_are_pyprojects():
    assert {f"transparencia.{stage}" for stage in MAPPED_STAGES} == set(PACKAGE_DIRS) - {"transparencia"}


def _wheel_install(tmp_path: Path) -> Path:
    """The package built as a wheel from a copy of its sources and installed into a bare folder."""
    source, wheels, target = tmp_path / "source", tmp_path / "wheels", tmp_path / "site"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in set(PACKAGE_DIRS.values()):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(source)], check=True, capture_output=True)
    wheel = next(wheels.glob("*.whl"))
    subprocess.run([*pip, "install", "--no-deps", "--target", str(target), str(wheel)], check=True, capture_output=True)
    return target


def _installed_fingerprint(site: Path) -> tuple[list[str], str]:
    code = ("import json; from transparencia.publishers.render_memo import package_files, code_fingerprint; "
            "print(json.dumps([sorted(package_files()), code_fingerprint()]))")
    run = subprocess.run([sys.executable, "-c", code], cwd=site.parent, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(site)})
    names, fingerprint = json.loads(run.stdout)
    return names, fingerprint


def test_a_wheel_install_fingerprints_every_module_and_schema(tmp_path):
    site = _wheel_install(tmp_path)
    names, fingerprint = _installed_fingerprint(site)
    assert names == sorted(package_files())  # the same files as the sources, the kernel included
    assert "transparencia/domain/period.py" in names and "transparencia/schemas/items/planilla.yaml" in names
    assert fingerprint == code_fingerprint()
    period = site / "transparencia" / "domain" / "period.py"
    period.write_text(period.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    assert _installed_fingerprint(site)[1] != fingerprint
