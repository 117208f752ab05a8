"""The raw-input archive: original bytes, revisions instead of overwrites, a manifest per period."""

from __future__ import annotations

import hashlib
import threading
from decimal import Decimal

import pandas as pd
import pyarrow.parquet as pq

from transparencia.domain import Period, Workspace
from transparencia.sources.archive import archive_file, archive_frame, read_manifest, revision_name

JANUARY = Period.parse("2025-01")


def test_file_is_archived_byte_for_byte_with_its_sha256(tmp_path):
    original = tmp_path / "inbox" / "Planilla Enero.xlsx"
    original.parent.mkdir()
    original.write_bytes(b"PK\x03\x04 planilla de enero")
    archived = archive_file(Workspace(tmp_path / "data"), JANUARY, "rrhh", original, "run-1")
    assert archived.path == tmp_path / "data" / "raw" / "2025-01" / "rrhh" / "Planilla Enero.xlsx"
    assert archived.path.read_bytes() == original.read_bytes()
    assert archived.sha256 == hashlib.sha256(original.read_bytes()).hexdigest()
    assert (archived.revision, archived.reused) == (1, False)
    manifest = read_manifest(Workspace(tmp_path / "data"), JANUARY)
    revision = manifest["inputs"]["rrhh/Planilla Enero.xlsx"]["revisions"][0]
    assert revision["sha256"] == archived.sha256
    assert revision["size"] == len(original.read_bytes())
    assert revision["path"] == "rrhh/Planilla Enero.xlsx"
    assert revision["archived_at"]
    assert manifest["runs"]["run-1"]["inputs"] == {"rrhh/Planilla Enero.xlsx": 1}


def test_unchanged_input_reuses_its_revision(tmp_path):
    original = tmp_path / "planilla.xlsx"
    original.write_bytes(b"same bytes")
    first = archive_file(Workspace(tmp_path), JANUARY, "rrhh", original, "run-1")
    again = archive_file(Workspace(tmp_path), JANUARY, "rrhh", original, "run-2")
    assert (again.revision, again.reused, again.path) == (1, True, first.path)
    folder = tmp_path / "raw" / "2025-01" / "rrhh"
    assert sorted(p.name for p in folder.iterdir()) == ["planilla.xlsx"]
    manifest = read_manifest(Workspace(tmp_path), JANUARY)
    assert len(manifest["inputs"]["rrhh/planilla.xlsx"]["revisions"]) == 1
    assert manifest["runs"]["run-2"]["inputs"]["rrhh/planilla.xlsx"] == 1


def test_changed_input_becomes_r2_and_the_old_copy_is_untouched(tmp_path):
    original = tmp_path / "planilla.xlsx"
    original.write_bytes(b"first version")
    first = archive_file(Workspace(tmp_path), JANUARY, "rrhh", original, "run-1")
    original.write_bytes(b"corrected version, sent again")
    second = archive_file(Workspace(tmp_path), JANUARY, "rrhh", original, "run-2")
    assert second.revision == 2 and not second.reused
    assert second.path.name == "planilla.r2.xlsx"
    assert first.path.read_bytes() == b"first version"
    assert second.path.read_bytes() == b"corrected version, sent again"
    manifest = read_manifest(Workspace(tmp_path), JANUARY)
    assert [r["revision"] for r in manifest["inputs"]["rrhh/planilla.xlsx"]["revisions"]] == [1, 2]
    assert manifest["runs"]["run-1"]["inputs"]["rrhh/planilla.xlsx"] == 1
    assert manifest["runs"]["run-2"]["inputs"]["rrhh/planilla.xlsx"] == 2
    original.write_bytes(b"first version")  # the officer sends the first file back
    third = archive_file(Workspace(tmp_path), JANUARY, "rrhh", original, "run-3")
    assert (third.revision, third.reused) == (1, True)


def test_a_stray_file_with_the_next_revision_name_is_never_overwritten(tmp_path):
    original = tmp_path / "planilla.xlsx"
    original.write_bytes(b"v1")
    archive_file(Workspace(tmp_path), JANUARY, "rrhh", original, "run-1")
    stray = tmp_path / "raw" / "2025-01" / "rrhh" / "planilla.r2.xlsx"
    stray.write_bytes(b"put here by hand")
    original.write_bytes(b"v2")
    archived = archive_file(Workspace(tmp_path), JANUARY, "rrhh", original, "run-2")
    assert archived.path.name == "planilla.r3.xlsx"
    assert stray.read_bytes() == b"put here by hand"


def test_database_extract_is_archived_as_parquet(tmp_path):
    frame = pd.DataFrame({"objeto_gasto": ["001", "002"], "asignado": [Decimal("1250.50"), Decimal("99.99")],
                          "fecha_corte": pd.to_datetime(["2025-01-31", "2025-01-31"])})
    archived = archive_frame(Workspace(tmp_path), JANUARY, "finanzas", "finanzas-db.ejecucion-presupuestaria", frame, "run-1",
                             origin="postgresql://lector:***@db/siafpa")
    assert archived.path.name == "finanzas-db.ejecucion-presupuestaria.parquet"
    back = pd.read_parquet(archived.path)
    assert list(back["objeto_gasto"]) == ["001", "002"]
    assert list(back["asignado"]) == [Decimal("1250.50"), Decimal("99.99")]
    again = archive_frame(Workspace(tmp_path), JANUARY, "finanzas", "finanzas-db.ejecucion-presupuestaria", frame.copy(), "run-2")
    assert again.reused and again.revision == 1
    revision = read_manifest(Workspace(tmp_path), JANUARY)["inputs"]["finanzas/finanzas-db.ejecucion-presupuestaria.parquet"]
    assert revision["revisions"][0]["origin"] == "postgresql://lector:***@db/siafpa"


def test_a_column_of_mixed_types_is_kept_as_text(tmp_path):
    frame = pd.DataFrame({"codigo": [1, "A-2", None]}, dtype=object)
    archived = archive_frame(Workspace(tmp_path), JANUARY, "finanzas", "mixto", frame, "run-1")
    assert pq.read_table(archived.path).column("codigo").to_pylist() == ["1", "A-2", None]


def test_concurrent_archiving_keeps_every_input_in_the_manifest(tmp_path):
    files = []
    for i in range(8):
        path = tmp_path / f"input-{i}.csv"
        path.write_bytes(f"row {i}\n".encode())
        files.append(path)
    threads = [threading.Thread(target=archive_file, args=(Workspace(tmp_path / "data"), JANUARY, "compras", f, "run-1"))
               for f in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    manifest = read_manifest(Workspace(tmp_path / "data"), JANUARY)
    assert len(manifest["inputs"]) == 8
    assert len(manifest["runs"]["run-1"]["inputs"]) == 8
    leftovers = [p.name for p in (tmp_path / "data" / "raw" / "2025-01" / "compras").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_revision_names():
    assert revision_name("planilla.xlsx", 1) == "planilla.xlsx"
    assert revision_name("planilla.xlsx", 2) == "planilla.r2.xlsx"
    assert revision_name("LEEME", 3) == "LEEME.r3"
