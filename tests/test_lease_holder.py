"""Who holds the portal's lease, told without the portal: a holder on this machine whose process is
gone (or whose process id now belongs to another process) is dead; anything else is not guessed at.
And the CLI's exit code for a passing failure (the portal did not answer, or stayed locked)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from transparencia.cli import EXIT_TRY_LATER, friendly_errors
from transparencia.publishers.base import PortalUnavailableError
from transparencia.publishers.ckan_portal import LeaseHeldError, LeaseRecord, _process_start


def _held_by(pid: int, start: str, host: str | None = None) -> LeaseRecord:
    return LeaseRecord("oficial@laptop", pid, "ejecucion", "2025-02-05T06:00:00+00:00", "2025-02-05T06:01:00+00:00",
                       host or socket.gethostname(), start, "publicación de 2025-01")


def test_a_holder_on_this_machine_is_dead_when_its_process_is_gone_or_is_another_process():
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    me = _process_start(os.getpid())

    assert me is not None
    assert _held_by(ended.pid, "1").dead_here()
    assert not _held_by(os.getpid(), me).dead_here()
    assert _held_by(os.getpid(), str(int(me) + 1)).dead_here()  # the id was reused by a later process
    assert not _held_by(ended.pid, "1", host="otra-maquina").dead_here()  # another machine's: never guessed


def test_a_killed_process_its_parent_has_not_reaped_is_dead():
    zombie = subprocess.Popen([sys.executable, "-c", "import os; os.kill(os.getpid(), 9)"])
    while True:  # until it is a zombie; not reaped (no wait) until the end
        try:
            state = Path(f"/proc/{zombie.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            state = "gone"
        if state in ("Z", "gone"):
            break
    assert _process_start(zombie.pid) is None
    zombie.wait()


@pytest.mark.parametrize("error", [PortalUnavailableError("CKAN no respondió"),
                                   LeaseHeldError("Ya hay una publicación en curso")])
def test_a_passing_failure_exits_75_not_2(error):
    @friendly_errors
    def command() -> None:
        raise error

    with pytest.raises(SystemExit) as ended:
        command()
    assert ended.value.code == EXIT_TRY_LATER == 75
