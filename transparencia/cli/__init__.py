"""The ``transparencia`` command line: one module per command group, all messages in Spanish.

Exit codes: 0 success; 1 the data has problems (invalid, rejected or missing items);
2 usage, configuration or unusable input; 3 an unexpected failure; 75 (sysexits' EX_TEMPFAIL) a
passing failure, nothing wrong with the data or the configuration: the portal did not answer, or
another run of the institution kept the portal's lease for longer than this one could wait; run
again later. No command ever ends in a traceback: errors of ours are shown as their Spanish
message, anything unexpected as one line naming the failure.
"""

from __future__ import annotations

import atexit
import functools
import gc
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import typer
from rich.console import Console

from transparencia.cli import spanish
from transparencia.errors import RunInterrupted, TransientError, TransparenciaError
from transparencia.sources.config import DEFAULT_CONFIG

spanish.install()
# At exit, after the handlers registered later (the temporary Prefect server's stop, Prefect's own):
# freeze the heap, so that the interpreter's teardown does not walk the millions of objects Prefect,
# pandas and Great Expectations leave (half a second of every command). Nothing at exit needs the
# collector: files are closed where they are written, and logging flushes its handlers itself.
atexit.register(gc.freeze)
app = typer.Typer(
    name="transparencia",
    help="Publicación mensual de los puntos de transparencia (Ley 6 de 2002).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

F = TypeVar("F", bound=Callable)
EXIT_TRY_LATER = 75  # sysexits' EX_TEMPFAIL: what cron wrappers and service managers know as "retry later"


@app.callback()
def main() -> None:
    """Publicación mensual de los puntos de transparencia (Ley 6 de 2002)."""


def run_hint(period: object, config: Path, target: object | None = None) -> str:
    """'transparencia run --period 2025-02 --config …': the command to type next, with the options this
    one was given, so that copying it works (the default configuration needs no --config)."""
    words = ["transparencia", "run", "--period", str(period)]
    if Path(config) != DEFAULT_CONFIG:
        words += ["--config", str(config)]
    if target is not None:
        words += ["--target", str(target)]
    return shlex.join(words)


def friendly_errors(command: F) -> F:
    """Turn our errors into a Spanish message and their exit code (2; 75 for a passing failure); never
    show a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except TransientError as exc:
            err_console.print(f"[bold red]Error:[/] {exc.message}", highlight=False)
            sys.exit(EXIT_TRY_LATER)
        except TransparenciaError as exc:
            err_console.print(f"[bold red]Error:[/] {exc.message}", highlight=False)
            sys.exit(2)
        except RunInterrupted as exc:
            err_console.print(exc.message, highlight=False)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            err_console.print("Interrumpido por el usuario.")
            sys.exit(130)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:  # the last line of defence: one line, no traceback
            err_console.print(f"[bold red]Error inesperado:[/] {type(exc).__name__}: {exc}", highlight=False)
            sys.exit(3)

    return wrapper  # type: ignore[return-value]


from transparencia.cli import (  # noqa: E402,F401  (registers the commands)
    items,
    lease,
    monitor,
    observations,
    run,
    template,
    validate,
    verify,
    withdraw,
)
