"""Typer's own texts in Spanish ("Show this message and exit.", "Usage:", "Options", "[required]",
"Missing option"), so that every line of ``--help`` and of a usage error is Spanish.

Typer (with the copy of Click it carries) writes these texts in English with no translation
catalogue, so ``install()`` adjusts the few places they come from: the help option's text, the
usage prefix, the help panels' titles and markers, and the messages of usage errors (translated
by pattern, so the option names and values inside them are kept).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TypeVar

from typer import core as typer_core
from typer import rich_utils
from typer._click import core, exceptions
from typer._click.formatting import HelpFormatter

T = TypeVar("T")

HELP_OPTION = "Muestra esta ayuda y termina."
USAGE_PREFIX = "Uso: "
PANEL_TEXTS = {
    "DEPRECATED_STRING": "(obsoleto) ",
    "DEFAULT_STRING": "[por defecto: {}]",
    "ENVVAR_STRING": "[variable de entorno: {}]",
    "REQUIRED_LONG_STRING": "[obligatorio]",
    "ARGUMENTS_PANEL_TITLE": "Argumentos",
    "OPTIONS_PANEL_TITLE": "Opciones",
    "COMMANDS_PANEL_TITLE": "Comandos",
    "ERRORS_PANEL_TITLE": "Error",
    "ABORTED_TEXT": "Interrumpido.",
    "RICH_HELP": "Use [blue]'{command_path} {help_option}'[/] para ver la ayuda.",
}
USAGE_ERRORS = (
    (r"^Missing option (.*)\.$", r"Falta la opción \1."),
    (r"^Missing argument (.*)\.$", r"Falta el argumento \1."),
    (r"^Missing parameter: (.*)$", r"Falta el parámetro \1."),
    (r"^Missing (.*)\.$", r"Falta \1."),
    (r"^No such option: (.*)$", r"No existe la opción \1."),
    (r"^No such command (.*)\.$", r"No existe el comando \1."),
    (r"^Missing command\.$", "Falta el comando."),
    (r"^Invalid value for (.*?): (.*)$", r"Valor no válido para \1: \2"),
    (r"^Invalid value: (.*)$", r"Valor no válido: \1"),
    (r"^Got unexpected extra argument\(s\) \((.*)\)$", r"Sobran argumentos: \1"),
    (r"^Option (.*) requires an argument\.$", r"La opción \1 necesita un valor."),
    (r"^Option (.*) requires (\d+) arguments\.$", r"La opción \1 necesita \2 valores."),
    (r"^Option (.*) does not take a value\.$", r"La opción \1 no lleva valor."),
    (r"Did you mean (.*)\?", r"¿Quiso decir \1?"),
    (r"\(Possible options: (.*)\)", r"(opciones posibles: \1)"),
    (r"(\S+) is not a valid (integer|float|boolean)\.", r"\1 no es un valor válido (\2)."),
    (r"(\S+) is not in the range (.*)\.", r"\1 no está en el intervalo \2."),
    (r"(\S+) is not one of (.*)\.", r"\1 no es uno de \2."),
)
USAGE_PIECES = {"[OPTIONS]": "[OPCIONES]", "COMMAND [ARGS]...": "COMANDO [ARGUMENTOS]..."}
TYPE_WORDS = {"int range": "entero", "float range": "número", "str": "texto", "int": "entero", "float": "número",
              "bool": "sí/no", "Path": "ruta", "list": "lista", "choice": "opción"}
_TYPE_WORD = re.compile(r"\b(" + "|".join(re.escape(w) for w in TYPE_WORDS) + r")\b")
_USAGE_ERRORS = [(re.compile(pattern, re.MULTILINE), spanish) for pattern, spanish in USAGE_ERRORS]


def translate(message: str) -> str:
    """A usage error's English message in Spanish (the names and values inside are kept)."""
    for pattern, spanish in _USAGE_ERRORS:
        message = pattern.sub(spanish, message)
    return message


def type_label(text: str | None) -> str | None:
    """'<list[Path]>' -> '<lista[ruta]>': the type column of the help in Spanish."""
    return None if text is None else _TYPE_WORD.sub(lambda m: TYPE_WORDS[m.group(1)], text)


def install() -> None:
    """Put the Spanish texts in Typer's help and usage errors (idempotent)."""
    for name, text in PANEL_TEXTS.items():
        setattr(rich_utils, name, text)
    # A parent comes before its subclasses: a subclass that only inherits the method finds it wrapped.
    for error in (exceptions.ClickException, exceptions.UsageError, exceptions.BadParameter,
                  exceptions.MissingParameter, exceptions.NoSuchOption, exceptions.FileError):
        _wrap(error, "format_message", translate)
    _wrap(core.Command, "get_help_option", _spanish_help)
    for command in (core.Command, typer_core.TyperGroup):
        _wrap(command, "collect_usage_pieces", lambda pieces: [USAGE_PIECES.get(p, p) for p in pieces])
    for parameter in (typer_core.TyperOption, typer_core.TyperArgument):
        _wrap(parameter, "display_type_rich", type_label)
    _spanish_usage_prefix()


def _spanish_help(option: typer_core.TyperOption | None) -> typer_core.TyperOption | None:
    """The help option (a Click ``Option``, or None when a command has none) with its text in Spanish."""
    if option is not None:
        option.help = HELP_OPTION
    return option


def _spanish_usage_prefix() -> None:
    """``Usage: `` becomes ``Uso: `` where the caller names no prefix of its own, once."""
    write_usage = HelpFormatter.write_usage
    if getattr(write_usage, "spanish", False):
        return

    @functools.wraps(write_usage)
    def spanish_usage(self: HelpFormatter, prog: str, args: str = "", prefix: str | None = None) -> None:
        return write_usage(self, prog, args, USAGE_PREFIX if prefix is None else prefix)

    _replace(HelpFormatter, "write_usage", spanish_usage)


def _wrap(cls: type, name: str, change: Callable[[T], T]) -> None:
    """Make ``cls.name`` return ``change(what it returned)``, once."""
    original = getattr(cls, name)
    if getattr(original, "spanish", False):
        return

    @functools.wraps(original)
    def wrapper(self: object, *args: object, **kwargs: object) -> T:
        return change(original(self, *args, **kwargs))

    _replace(cls, name, wrapper)


def _replace(cls: type, name: str, method: Callable[..., object]) -> None:
    """Put ``method`` in ``cls`` as ``name``, marked so that ``install`` never wraps it twice."""
    method.spanish = True  # type: ignore[attr-defined]
    setattr(cls, name, method)
