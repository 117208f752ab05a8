"""What a `--target ckan` run settles before publishing: pre-flight checks (exit 2 after a few calls and no
retry loop, nothing written locally; 75 for a portal that does not answer) and one writer per institution
(the portal lease), against the real CKAN."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from ckan_proxy import FaultProxy, MovedPortal
from institutions import sample_institution

from transparencia.domain import Period
from transparencia.publishers.ckan import CkanPublisher
from transparencia.publishers.ckan_portal import LeaseHeldError
from transparencia.publishers.names import portal_dataset_name
from transparencia.sources.config import load_config

pytestmark = pytest.mark.ckan
PREFLIGHT_CALLS = 6  # the most portal calls a refused pre-flight makes (a retry loop makes more)


@pytest.fixture
def proxy(ckan_server):
    """The real CKAN behind a pass-through proxy that lists every call the run makes."""
    with FaultProxy(ckan_server.url) as proxy:
        yield proxy


def run_cli(config: Path, url: str, token_file: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "CKAN_URL": url, "CKAN_API_TOKEN_FILE": str(token_file)}
    env.pop("CKAN_API_TOKEN", None)
    return subprocess.run([sys.executable, "-m", "transparencia", "run", "--period", "2025-01", "--target", "ckan",
                           "--config", str(config), *args], env=env, capture_output=True, text=True, timeout=timeout)


def token_file(tmp_path: Path, token: str) -> Path:
    path = tmp_path / f"token-{uuid.uuid4().hex[:6]}"
    path.write_text(token, encoding="utf-8")
    return path


def files_under(folder: Path) -> set[Path]:
    return {path.relative_to(folder) for path in folder.rglob("*")}


def assert_fails_fast(done: subprocess.CompletedProcess, calls: list[str], message: str, data_dir: Path,
                      before: set[Path], code: int = 2) -> None:
    """Exit ``code`` with the message, after a handful of portal calls none of them repeated (no retry
    loop), and before extracting: the data folder is as the test left it."""
    assert done.returncode == code, done.stdout + done.stderr
    assert len(calls) <= PREFLIGHT_CALLS and len(set(calls)) == len(calls), calls
    assert message in " ".join(done.stderr.split()), done.stderr
    assert "Traceback" not in done.stderr
    assert not (data_dir / "reports").exists() and not (data_dir / "publicado").exists()
    assert files_under(data_dir) == before


@pytest.mark.parametrize("case", ["puerto cerrado", "no es CKAN", "token equivocado", "archivo de token vacío"])
def test_a_wrong_portal_or_token_exits_2_after_a_few_calls_before_extracting(ckan_server, proxy, ckan_org, tmp_path,
                                                                              case):
    config = sample_institution(tmp_path, organization=ckan_org, month=Period(2025, 1))
    url, token = proxy.url, token_file(tmp_path, ckan_server.token)
    expected = {"puerto cerrado": "No se pudo conectar con el portal CKAN en http://127.0.0.1:9",
                "no es CKAN": "responde, pero no es un portal CKAN",
                "token equivocado": "no reconoce el token de CKAN",
                "archivo de token vacío": "está vacío"}[case]
    if case == "puerto cerrado":
        url = "http://127.0.0.1:9"
    elif case == "no es CKAN":
        url = proxy.url + "/no-es-una-api"
    elif case == "token equivocado":
        token = token_file(tmp_path, "eyJ0b2tlbiI6Im5vLXZhbGlkbyJ9.no.valido")
    else:
        token = token_file(tmp_path, "")

    data_dir = load_config(config).data_dir
    before = files_under(data_dir)
    done = run_cli(config, url, token)

    outage = 75  # the portal does not answer: try again later, nothing to fix in the configuration
    assert_fails_fast(done, [action for action, _fault in proxy.seen], expected, data_dir, before,
                      outage if case == "puerto cerrado" else 2)
    assert ckan_server.token not in done.stdout + done.stderr


def test_an_address_that_redirects_exits_2_naming_the_address_to_use(ckan_server, proxy, ckan_org, tmp_path):
    """The national portal's bare host answers 301 to www. A POST sent on would arrive as a GET without its
    body, so no action follows a redirect: the run stops before extracting and names the address to use."""
    config = sample_institution(tmp_path, organization=ckan_org, month=Period(2025, 1))
    token = token_file(tmp_path, ckan_server.token)
    data_dir = load_config(config).data_dir
    before = files_under(data_dir)

    with MovedPortal(proxy.url) as moved:
        done = run_cli(config, moved.url, token)

    assert_fails_fast(done, [action for action, _fault in proxy.seen],
                      f"La dirección del portal {moved.url} redirige a {proxy.url}: indique {proxy.url}", data_dir,
                      before)
    assert moved.seen == 1 and proxy.seen == []


def test_a_user_who_cannot_write_to_the_organization_is_told_what_to_ask_for(ckan_server, proxy, ckan_org, tmp_path):
    admin = ckan_server.admin()
    user = f"oficial-{uuid.uuid4().hex[:6]}"
    admin.action.user_create(name=user, email=f"{user}@example.org", password=uuid.uuid4().hex)
    token = admin.action.api_token_create(user=user, name="prueba")["token"]
    config = sample_institution(tmp_path, organization=ckan_org, month=Period(2025, 1))

    token_path = token_file(tmp_path, token)
    data_dir = load_config(config).data_dir
    before = files_under(data_dir)
    done = run_cli(config, proxy.url, token_path)

    assert_fails_fast(done, [action for action, _fault in proxy.seen],
                      f"El usuario '{user}' no puede publicar en la organización '{ckan_org}': pida a los "
                      "administradores de la organización", data_dir, before)


def test_a_missing_organization_is_created_when_the_token_may(ckan_server):
    missing = f"org-nueva-{uuid.uuid4().hex[:6]}"
    publisher = CkanPublisher(ckan_server.url, ckan_server.token, public_url=ckan_server.url)

    assert publisher.preflight(missing, "Institución nueva") == "ckan_admin"
    assert ckan_server.admin().action.organization_show(id=missing)["title"] == "Institución nueva"


def test_the_lease_admits_one_run_of_the_institution_names_the_holder_and_expires(ckan_server, ckan_org):
    def lease(run: str, task: str = "publicación de 2025-01", **options):
        return CkanPublisher(ckan_server.url, ckan_server.token).lease(ckan_org, run, task, **options)

    with lease("ejecucion-a"):
        with pytest.raises(LeaseHeldError, match=r"la tiene .+@.+ \(proceso \d+, ejecución ejecucion-a, "
                                                 r"publicación de 2025-01\) desde el 20"):
            lease("ejecucion-b").acquire()
        with pytest.raises(LeaseHeldError):  # one lease for every month of the institution
            lease("ejecucion-c", "publicación de 2025-02").acquire()
    second = lease("ejecucion-b")
    second.acquire()  # released by the first
    second.release()
    lease("caida", seconds=0.5).acquire()  # a live process's lease, never renewed nor released
    time.sleep(1.0)
    lease("siguiente").acquire()

    control = ckan_server.admin().action.package_show(id=f"{ckan_org}-transparencia-control")
    assert control["private"] is True


def test_two_concurrent_runs_end_with_one_set_of_resources(ckan_server, ckan_org, tmp_path):
    config = sample_institution(tmp_path, organization=ckan_org, month=Period(2025, 1))
    token = token_file(tmp_path, ckan_server.token)
    env = {**os.environ, "CKAN_URL": ckan_server.url, "CKAN_API_TOKEN_FILE": str(token)}
    command = [sys.executable, "-m", "transparencia", "run", "--period", "2025-01", "--target", "ckan",
               "--config", str(config)]
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outcomes = [(run.wait(timeout=900), run.stdout.read(), run.stderr.read()) for run in runs]

    codes = sorted(code for code, _out, _err in outcomes)
    assert codes == [1, 1], outcomes  # the second waits for the first; the demo month's rejected items exit 1
    ckan = ckan_server.admin()
    packages = ckan.action.package_search(fq=f"organization:{ckan_org}", rows=100, include_private=True)["results"]
    for package in packages:
        names = Counter(r["name"] for r in ckan.action.package_show(id=package["name"])["resources"])
        assert all(n == 1 for n in names.values()), (package["name"], names)
        assert not any(n.endswith((" (cargando)", " (reemplazado)")) for n in names)
    assert portal_dataset_name(ckan_org, "snm-planilla") in {p["name"] for p in packages}
