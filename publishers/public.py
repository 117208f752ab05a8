"""What may leave the machine: every published text in public terms, personal data as its policy says.

Two kinds of detail never reach a published file (validation reports, the compliance report,
CKAN metadata):

* **personal data** beyond its field's policy: a finding about a ``mask`` field shows the masked
  value, one about an ``omit``/``never`` field shows no value, and its message is rendered again
  from the treated value (not patched by search and replace);
* **internal systems**: URLs, hosts and ports, database users, local paths and ``file://`` links.
  A source is described as the public knows it ("archivo planilla_enero_2025.xlsx de la Dirección
  de Recursos Humanos", "base de datos de la Dirección de Finanzas"); an error carries its own
  public summary when it has one (``TransparenciaError.public``) and is scrubbed otherwise. The
  full detail stays in the local run ledger.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from pathlib import PureWindowsPath
from typing import Any
from urllib.parse import urlsplit

from transparencia.domain import cedula
from transparencia.domain.jsontypes import JsonObject
from transparencia.publishers.privacy import mask_value
from transparencia.schemas.table import TableSchema
from transparencia.sources.extraction import SourceRef
from transparencia.validation.findings import FINDING_TYPES, Finding, ValidationReport, render_message, where_suffix
from transparencia.validation.hits import shown_value

OMITTED_VALUE = "[dato personal omitido]"
INTERNAL_ADDRESS = "[dirección interna omitida]"

# A URL of any scheme (database URLs, file:// links, an internal portal), an IPv4 address or a
# host:port, and an absolute path (POSIX from a known root, or Windows with a drive letter).
_URL = re.compile(r"\b[a-zA-Z][\w+.-]*://[^\s'\"«»<>()]*")
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_HOST_PORT = re.compile(rf"(?<![\d.,])(?:{_OCTET}\.){{3}}{_OCTET}(?![\d]|[.,]\d)(?::\d{{2,5}})?"
                        r"|\b(?:localhost|[\w-]+(?:\.[\w-]+)+):\d{2,5}\b")
_POSIX_PATH = re.compile(r"(?<![\w/.])(?:~|\.{1,2})?/(?:[^\s'\"«»<>/:]+/)+([^\s'\"«»<>/:]+)")
_WINDOWS_PATH = re.compile(r"\b[A-Za-z]:\\(?:[^\s'\"«»<>\\:]+\\)*([^\s'\"«»<>\\:]+)")
_FEMININE = ("dirección", "subdirección", "oficina", "secretaría", "asesoría", "unidad", "sección",
             "coordinación", "gerencia", "división", "administración", "jefatura")


# Host names that only resolve inside a network (RFC 6761 and 6762, common intranet suffixes).
_INTERNAL_SUFFIXES = (".localhost", ".local", ".localdomain", ".internal", ".intranet", ".lan", ".home.arpa",
                      ".corp", ".test", ".invalid")


def public_address(url: str) -> str | None:
    """``url`` when the public can reach it, None when its host is a loopback, private, link-local or
    reserved address, or a name that only resolves inside a network (``localhost``, a name without a
    dot, ``*.local``, ``*.internal`` …): a portal reached through such an address has another one for
    the public, and a published link must use that one."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    try:
        return url if ipaddress.ip_address(host).is_global else None
    except ValueError:
        pass
    if "." not in host or host == "localhost" or host.endswith(_INTERNAL_SUFFIXES):
        return None
    return url


def of_directorate(name: str | None) -> str:
    """' de la Dirección de Finanzas', ' del Departamento de Compras', '' when unknown."""
    if not name:
        return ""
    first = name.split()[0].lower()
    if first in ("el", "la", "los", "las"):
        return f" de {name}"
    return f" de la {name}" if first in _FEMININE else f" del {name}" if first in (
        "departamento", "despacho", "área", "centro") else f" de {name}"


def file_name(location: str | None) -> str | None:
    """The bare file name of a path as configured or archived (no folders)."""
    if not location:
        return location
    return PureWindowsPath(location).name  # splits on both / and \


def describe_source(source: SourceRef) -> str:
    """A source in public terms: no path, no URL, no host, no user."""
    if source.kind == "database":
        return f"base de datos{of_directorate(source.directorate)}"
    sheet = f" (hoja '{source.sheet}')" if source.sheet else ""
    return f"archivo {file_name(source.location)}{sheet}{of_directorate(source.directorate)}"


def scrub(text: str) -> str:
    """``text`` without URLs, hosts, ports or local paths (a path keeps only its file name)."""
    text = _URL.sub(INTERNAL_ADDRESS, text)
    text = _WINDOWS_PATH.sub(lambda m: m.group(1), text)
    text = _POSIX_PATH.sub(lambda m: m.group(1), text)
    return _HOST_PORT.sub(INTERNAL_ADDRESS, text)


def public_error(exc: BaseException) -> str:
    """The Spanish message of an error as it may be published: its public summary, else scrubbed."""
    public = getattr(exc, "public", None)
    if public:
        return public
    message = getattr(exc, "message", None) or f"error inesperado ({type(exc).__name__})"
    return scrub(message)


def map_strings(data: Any, change: Callable[[str], str]) -> Any:
    """Apply ``change`` to every string inside nested dicts and lists."""
    if isinstance(data, str):
        return change(data)
    if isinstance(data, dict):
        return {k: map_strings(v, change) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [map_strings(v, change) for v in data]
    return data


# --------------------------------------------------------------------------- personal data in findings


def _columns(column: str | None, schema: TableSchema) -> list[str]:
    if not column:
        return []
    return [c.strip() for c in str(column).split(",") if c.strip() in schema.field_names]


def treated_value(value: Any, column: str | None, schema: TableSchema, rules: Mapping[str, str],
                  parts: tuple | None = None) -> tuple[Any, bool]:
    """(the value as its columns' policies allow, whether it changed). None means "no value"."""
    names = _columns(column, schema)
    if value is None or not any(rules[n] != "publish" for n in names):
        return value, False
    if len(names) == 1:
        return (None, True) if rules[names[0]] in ("omit", "never") else (mask_value(value, schema.field(names[0])), True)
    if parts is None or len(parts) != len(names):
        return None, True
    shown = []
    for name, part in zip(names, parts):
        rule = rules[name]
        part = OMITTED_VALUE if rule in ("omit", "never") else mask_value(part, schema.field(name)) if rule == "mask" else part
        shown.append(shown_value(part))
    return ", ".join(shown), True


def public_finding(finding: Finding, schema: TableSchema, rules: Mapping[str, str]) -> JsonObject:
    """A finding as published: treated value, message rendered from it, file by name only."""
    data = finding.to_dict()
    data["file"] = file_name(finding.file)
    value, changed = treated_value(finding.value, finding.column, schema, rules, finding.params.get("parts"))
    if changed:
        data["value"] = value
        data["message"] = _message(finding, value)
    return data


def _message(finding: Finding, value: Any) -> str:
    """The message rendered again from the treated value, still naming the directorate's header and cell."""
    return _rendered(finding, value) + where_suffix(finding.header, finding.cell)


def _rendered(finding: Finding, value: Any) -> str:
    shown = OMITTED_VALUE if value is None else shown_value(value)
    params = {k: v for k, v in finding.params.items() if k != "parts"}
    if finding.rule in FINDING_TYPES:
        try:
            return render_message(finding.rule, **params, column=finding.column, value=shown)
        except (KeyError, IndexError, ValueError):
            pass  # a finding built without its parameters: say what it is, without the value
        return f"{FINDING_TYPES[finding.rule].title} (columna '{finding.column}'): {shown}."
    return f"Observación en la columna '{finding.column}': {shown}."


def public_findings(report: ValidationReport, schema: TableSchema, rules: Mapping[str, str]) -> list[JsonObject]:
    """Every finding of ``report`` as it may be published (errors first)."""
    findings = [public_finding(f, schema, rules) for f in (*report.errors, *report.warnings)]
    return finish(findings, schema, rules)


def finish(data: Any, schema: TableSchema, rules: Mapping[str, str]) -> Any:
    """The last pass over anything published: no internal address or path, and, when a cédula
    field is not published in full, no cédula-shaped text anywhere."""
    data = map_strings(data, scrub)
    if any(f.format == "cedula" and rules[f.name] != "publish" for f in schema.fields):
        data = map_strings(data, cedula.mask_in_text)
    return data
