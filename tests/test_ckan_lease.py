"""The institution's portal lease against the real CKAN (issue 18, "recovery in seconds"): a run killed
with SIGKILL mid-publish does not lock the institution out, two months published at once both succeed,
`desbloquear` breaks a live holder's lease (which then writes nothing more), and the lease is released
at the end of a run whose portal breaker opened; lost answers are settled by reading the lease back."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ckan_proxy import FaultProxy
from institutions import viaticos_institution
from portal_poller import PortalPoller
from waiting import PATIENCE, until

from transparencia.domain import Period
from transparencia.errors import TransientError
from transparencia.publishers.ckan import CkanPublisher
from transparencia.publishers.ckan_client import CkanClient, RetryPolicy
from transparencia.publishers.ckan_portal import LeaseLostError, lease_holder
from transparencia.sources.config import load_config
from transparencia.sources.demo import write_month

pytestmark = pytest.mark.ckan
JAN, FEB = Period(2025, 1), Period(2025, 2)
QUICK = RetryPolicy(attempts=3, base_delay=0.05, max_delay=0.2)


def _institution(folder: Path, organization: str, acronym: str, *months: Period, rows: int = 40) -> Path:
    """One item (viáticos) with clean months: a complete run exits 0."""
    config = viaticos_institution(folder, organization, acronym)
    for month in months:
        write_month(load_config(config), month, rows=rows, errors=False, missing=())
    return config


def _environment(server, folder: Path, **settings: str) -> dict[str, str]:
    token = folder / "ckan-token"
    token.write_text(server.token, encoding="utf-8")
    kept = {key: value for key, value in os.environ.items()
            if not key.startswith("PREFECT_LOGGING_") and key not in ("PREFECT_API_URL", "CKAN_API_TOKEN")}
    return {**kept, "CKAN_URL": server.url, "CKAN_API_TOKEN_FILE": str(token), **settings}


def _command(config: Path, month: Period) -> list[str]:
    return [sys.executable, "-m", "transparencia", "run", "--period", str(month), "--target", "ckan",
            "--config", str(config), "--sin-correo"]



def _release_writes(folder: Path, month: Period) -> list[dict]:
    """The release's portal writes journaled so far (the lease's own are tagged apart)."""
    writes = []
    for journal in (folder / "runs" / str(month)).glob("*.escrituras.jsonl"):
        for line in journal.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line) if line.endswith("}") else {}
            if entry and entry.get("tipo") != "bloqueo":
                writes.append(entry)
    return writes


def _datastore_load(folder: Path, month: Period) -> bool:
    return any(w["accion"] == "resource_create" for w in _release_writes(folder, month))


def test_a_run_killed_mid_publish_leaves_no_server_and_the_next_run_breaks_its_lease_at_once(
        ckan_server, ckan_org, ckan_acronym, tmp_path):
    config = _institution(tmp_path, ckan_org, ckan_acronym, JAN, rows=500)
    env = _environment(ckan_server, tmp_path)  # no PREFECT_API_URL: each run starts its temporary server
    with PortalPoller(ckan_server.url, ckan_org) as poller:
        killed = subprocess.Popen(_command(config, JAN), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, start_new_session=True)
        until(lambda: _datastore_load(tmp_path, JAN), "the month's first resource written", killed)
        killed.kill()  # SIGKILL: no handler, no atexit, the lease left on the portal
        killed.wait()
        holder = lease_holder(CkanClient(ckan_server.url, ckan_server.token), ckan_org)
        assert holder is not None and holder.proceso == killed.pid

        # the temporary Prefect server (a child of the killed run) was told to stop by the kernel
        until(lambda: not _group_alive(killed.pid), "the killed run's Prefect server gone")

        again = subprocess.run(_command(config, JAN), env=env, capture_output=True, text=True, timeout=PATIENCE)
        poller.wait_polls(2)

    output = " ".join((again.stdout + again.stderr).split())
    assert again.returncode == 0, output
    # it did not wait for the lease to expire: the dead holder's lease was broken on sight
    assert (f"Bloqueo de publicación de '{ckan_org}' roto: su titular, el proceso {killed.pid} de esta máquina "
            f"(ejecución {holder.ejecucion}, publicación de 2025-01), ya no existe.") in output
    assert "Esperando el bloqueo" not in output and "Traceback" not in output
    assert lease_holder(CkanClient(ckan_server.url, ckan_server.token), ckan_org) is None  # released at the end
    final = PortalPoller(ckan_server.url, ckan_org)
    final.seen_datasets |= poller.seen_datasets
    final.poll()  # the portal as the re-run left it: nothing loading, every table whole
    final.assert_clean(min_polls=0)
    broken = _broken_leases(ckan_server, ckan_org)
    assert broken[0]["bloqueo"]["ejecucion"] == holder.ejecucion
    assert broken[0]["motivo"] == "su proceso ya no existe en esta máquina"


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def _broken_leases(server, organization: str) -> list[dict]:
    control = server.admin().action.package_show(id=f"{organization}-transparencia-control")
    extras = {e["key"]: e["value"] for e in control["extras"]}
    return json.loads(extras["bloqueos_rotos"])


def test_two_months_of_one_institution_published_at_once_both_succeed(prefect_server, ckan_server, ckan_org,
                                                                      ckan_acronym, tmp_path):
    config = _institution(tmp_path, ckan_org, ckan_acronym, JAN, FEB)
    env = _environment(ckan_server, tmp_path, PREFECT_API_URL=prefect_server)
    runs = [subprocess.Popen(_command(config, month), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True) for month in (JAN, FEB)]
    outputs = [run.communicate(timeout=PATIENCE)[0] for run in runs]

    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output
    said = [" ".join(output.split()) for output in outputs]
    assert any(f"Esperando el bloqueo de publicación de '{ckan_org}': lo tiene" in text for text in said), said
    ckan = ckan_server.admin()
    found = ckan.action.package_search(fq=f"organization:{ckan_org}", rows=100)["results"]
    viaticos = next(p for p in found if p["name"].endswith("viaticos"))
    resources = ckan.action.package_show(id=viaticos["name"])["resources"]
    assert {r.get("periodo") for r in resources} >= {"2025-01", "2025-02"}, [r["name"] for r in resources]
    assert not any(r["name"].endswith((" (cargando)", " (reemplazado)")) for r in resources)


def test_desbloquear_breaks_a_live_holder_which_then_writes_nothing_more(ckan_server, ckan_org, ckan_acronym,
                                                                         tmp_path):
    config = _institution(tmp_path, ckan_org, ckan_acronym)
    holder = CkanPublisher(ckan_server.url, ckan_server.token).lease(ckan_org, "ejecucion-viva", "publicación de 2025-01")
    writer = CkanClient(ckan_server.url, ckan_server.token)
    with holder:
        unlock = subprocess.run([sys.executable, "-m", "transparencia", "desbloquear", "--motivo",
                                 "el portátil del oficial se apagó", "--target", "ckan", "--config", str(config)],
                                env=_environment(ckan_server, tmp_path), capture_output=True, text=True, timeout=120)
        output = " ".join(unlock.stdout.split())
        assert unlock.returncode == 0, unlock.stdout + unlock.stderr
        assert f"Bloqueo de publicación de '{ckan_org}' roto. Lo tenía" in output
        assert f"(proceso {os.getpid()}, ejecución ejecucion-viva, publicación de 2025-01)" in output
        assert lease_holder(writer, ckan_org) is None

        with pytest.raises(LeaseLostError, match="Se perdió el bloqueo de publicación"):
            holder.renew()  # what its heartbeat does next
        assert holder.lost
        with pytest.raises(LeaseLostError):  # the run's next write to the portal is refused
            writer.call("package_patch", {"id": f"{ckan_org}-transparencia-control", "notes": "no"})
    assert writer.call("package_show", {"id": f"{ckan_org}-transparencia-control"})["notes"] != "no"
    entry = _broken_leases(ckan_server, ckan_org)[0]
    assert entry["motivo"] == "desbloquear: el portátil del oficial se apagó"
    assert entry["bloqueo"]["ejecucion"] == "ejecucion-viva"

    nothing = subprocess.run([sys.executable, "-m", "transparencia", "desbloquear", "--motivo", "otra vez", "--target",
                              "ckan", "--config", str(config)], env=_environment(ckan_server, tmp_path),
                             capture_output=True, text=True, timeout=120)
    assert nothing.returncode == 0 and "no tenía ningún bloqueo" in " ".join(nothing.stdout.split())


def test_the_lease_is_released_after_the_breaker_opened_and_lost_answers_are_read_back(ckan_server, ckan_org,
                                                                                       caplog):
    with FaultProxy(ckan_server.url) as proxy:
        publisher = CkanPublisher(proxy.url, ckan_server.token, retry=QUICK)
        proxy.plan("package_revise", "drop")  # the answer to the lease's first write is lost after CKAN wrote it
        with caplog.at_level(logging.WARNING), publisher.lease(ckan_org, "ejecucion-a", "publicación de 2025-01"):
            assert lease_holder(publisher.client, ckan_org).ejecucion == "ejecucion-a"
            proxy.down = True
            with pytest.raises(TransientError):
                publisher.client.call("package_patch", {"id": "x", "notes": "y"})
            proxy.down = False
            with pytest.raises(TransientError, match="se detuvo la publicación"):  # the breaker is open
                publisher.client.call("package_show", {"id": "x"})
            proxy.plan("package_revise", "drop")  # and the answer to the release is lost too
    assert ("package_revise", "drop") in proxy.seen
    assert lease_holder(CkanClient(ckan_server.url, ckan_server.token), ckan_org) is None
    assert not [r for r in caplog.records if "bloqueo" in r.getMessage()], caplog.text  # no false warning


def test_a_run_that_cannot_have_the_lease_stops_before_prefect_starts_with_exit_75(ckan_server, ckan_org,
                                                                                   ckan_acronym, tmp_path):
    config = _institution(tmp_path, ckan_org, ckan_acronym, JAN)
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("  formats: [csv, json]\n", "  formats: [csv, json]\n  lease_wait: 0.05\n"),
                      encoding="utf-8")  # three seconds
    holder = CkanPublisher(ckan_server.url, ckan_server.token).lease(ckan_org, "ejecucion-larga", "publicación de 2025-02")
    with holder:
        done = subprocess.run(_command(config, JAN), env=_environment(ckan_server, tmp_path), capture_output=True,
                              text=True, timeout=PATIENCE)
    output = " ".join((done.stdout + done.stderr).split())

    assert done.returncode == 75, output
    assert f"Esperando el bloqueo de publicación de '{ckan_org}': lo tiene" in output
    assert f"Ya hay una publicación en curso de la organización '{ckan_org}': la tiene" in output
    assert "ejecución ejecucion-larga, publicación de 2025-02" in output and "desbloquear" in output
    assert "iniciando Prefect" not in output and "Traceback" not in output
    assert not (tmp_path / "runs").exists()  # nothing was extracted, nothing journaled
