"""The institution configuration: who publishes, its directorates, their sources and the items each feeds.

One YAML file (see ``data/institution.yaml`` for the annotated sample and docs/ARCHITECTURE.md,
"Institution configuration"). It is validated on load: every unknown key or bad value raises a
``ConfigError`` whose Spanish message names the file and the key path, e.g.
``institution.yaml: directorates[1].sources[0]: clave desconocida 'pth' (¿quiso decir 'path'?)``.

Secrets never live in the file nor in these objects: a source or publisher names an environment
variable or a file, and ``resolve_secret`` reads it at the moment of use. URLs shown to people go
through ``mask_url``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import os
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from transparencia.domain import ItemKind, OutputFormat, PrivacyPolicy, Target, load_yaml
from transparencia.errors import ConfigError
from transparencia.schemas.catalog import Catalog, Item, load_catalog
from transparencia.sources.registry import connector
from transparencia.sources.secrets import resolve_secret

# Where the CLI and the deployments look for the configuration unless told otherwise.
DEFAULT_CONFIG = Path(os.environ.get("TRANSPARENCIA_CONFIG", "data/institution.yaml"))


@dataclass(frozen=True)
class Institution:
    """Publishing identity. ``organization`` is the CKAN organization name as configured, never derived."""

    name: str
    acronym: str
    organization: str
    license_id: str = "cc-zero"
    maintainer: str | None = None
    maintainer_email: str | None = None
    url: str | None = None


# --------------------------------------------------------------------------- periods


# --------------------------------------------------------------------------- typed parsing


def _suggest(key: str, allowed: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(str(key), list(allowed), n=1, cutoff=0.6)
    return f" (¿quiso decir '{close[0]}'?)" if close else ""


def check_keys(raw: Any, where: str, allowed: typing.Iterable[str], required: typing.Iterable[str] = ()) -> dict:
    """A mapping with only known keys and all required ones, or a ConfigError naming the path."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: se esperaba una sección con claves, no '{raw}'")
    allowed = list(allowed)
    for key in raw:
        if key not in allowed:
            raise ConfigError(f"{where}: clave desconocida '{key}'{_suggest(key, allowed)}")
    for key in required:
        if raw.get(key) in (None, ""):
            raise ConfigError(f"{where}: falta la clave obligatoria '{key}'")
    return raw


def _describe_type(kind: Any) -> str:
    names = {str: "un texto", int: "un número entero", float: "un número", bool: "true o false",
             dt.date: "una fecha AAAA-MM-DD", Path: "una ruta"}
    return names.get(kind, "un valor válido")


def _coerce(value: Any, kind: Any, where: str) -> Any:
    """Check one value against a dataclass field's annotation (str, int, bool, Path, dates, Optional)."""
    if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
        options = [k for k in typing.get_args(kind) if k is not type(None)]
        if value is None:
            return None
        kind = options[0]
    origin = typing.get_origin(kind)
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{where}: se esperaba una lista, no '{value}'")
        inner = typing.get_args(kind)[0]
        return tuple(_coerce(v, inner, f"{where}[{i}]") for i, v in enumerate(value))
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: se esperaba true o false, no '{value}'")
        return value
    if kind in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
            raise ConfigError(f"{where}: se esperaba {_describe_type(kind)}, no '{value}'")
        return kind(value)
    if kind is dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise ConfigError(f"{where}: se esperaba una fecha AAAA-MM-DD, no '{value}'") from None
    if kind in (str, Path):
        if isinstance(value, (dict, list)) or value is None or str(value).strip() == "":
            raise ConfigError(f"{where}: se esperaba {_describe_type(kind)}, no '{value}'")
        return kind(str(value))
    return value


def build(cls: type, raw: Any, where: str) -> Any:
    """Build a typed config dataclass from a YAML mapping: unknown keys, missing required keys and
    values of the wrong type all become Spanish ConfigErrors naming the key path. After building,
    the class's optional ``check(where)`` validates combinations of keys."""
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if f.init]
    required = [f.name for f in fields
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    raw = check_keys(raw, where, [f.name for f in fields], required)
    values = {name: _coerce(value, hints[name], f"{where}.{name}") for name, value in raw.items()}
    built = cls(**values)
    check = getattr(built, "check", None)
    if check is not None:
        check(where)
    return built


# --------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class CkanSettings:
    """Where the CKAN portal is and how to authenticate; only names of env vars or files, never the token."""

    url: str | None = None
    url_env: str | None = None
    token_env: str | None = None
    token_file: Path | None = None

    def check(self, where: str) -> None:
        if bool(self.url) == bool(self.url_env):
            raise ConfigError(f"{where}: indique 'url' o 'url_env' (uno de los dos)")
        if bool(self.token_env) == bool(self.token_file):
            raise ConfigError(f"{where}: indique 'token_env' o 'token_file' (el token nunca va en el archivo)")

    def resolve_url(self) -> str:
        return self.url or resolve_secret(env=self.url_env, what="publish.ckan.url_env")

    def resolve_token(self) -> str:
        return resolve_secret(env=self.token_env, file=self.token_file, what="publish.ckan")


@dataclass(frozen=True)
class PublishSettings:
    target: Target = Target.LOCAL
    local_dir: Path = Path("published")
    formats: tuple[OutputFormat, ...] = (OutputFormat.CSV, OutputFormat.XLSX, OutputFormat.JSON)
    ckan: CkanSettings | None = None


@dataclass(frozen=True)
class DocumentEntry:
    """A document item (kind: document) kept current as a link or a file."""

    item: str  # catalog code
    url: str | None = None
    path: Path | None = None
    updated: dt.date | None = None
    title: str | None = None

    def check(self, where: str) -> None:
        if bool(self.url) == bool(self.path):
            raise ConfigError(f"{where}: indique 'url' o 'path' del documento (uno de los dos)")


@dataclass(frozen=True)
class SourceConfig:
    """One source of a directorate: a connector name, its typed settings, and the items it feeds.

    ``items`` maps the catalog code of each item to that item's typed options for this connector.
    """

    id: str
    type: str
    directorate: str  # directorate id
    directorate_name: str
    settings: Any = field(repr=True)
    items: Mapping[str, Any] = field(default_factory=dict)
    where: str = field(default="", repr=False, compare=False)  # key path in the file, for messages

    def describe(self) -> str:
        return f"fuente '{self.id}' de {self.directorate_name}"


@dataclass(frozen=True)
class Directorate:
    id: str
    name: str
    sources: tuple[SourceConfig, ...] = ()


@dataclass(frozen=True)
class InstitutionConfig:
    path: Path
    institution: Institution
    catalog: Catalog
    directorates: tuple[Directorate, ...]
    documents: tuple[DocumentEntry, ...]
    publish: PublishSettings
    privacy: Mapping[str, Mapping[str, PrivacyPolicy]]  # item code -> field -> policy (overrides only)
    base_dir: Path  # folder of the configuration file
    inbox: Path  # base for relative source paths
    data_dir: Path  # where data/raw/<period>/... lives

    @property
    def sources(self) -> tuple[SourceConfig, ...]:
        return tuple(s for d in self.directorates for s in d.sources)

    def source(self, source_id: str) -> SourceConfig:
        for candidate in self.sources:
            if candidate.id == source_id:
                return candidate
        known = ", ".join(s.id for s in self.sources) or "ninguna"
        raise ConfigError(f"{self.path.name}: no hay ninguna fuente '{source_id}'{_suggest(source_id, [s.id for s in self.sources])}. Fuentes: {known}")

    def directorate(self, directorate_id: str) -> Directorate:
        for candidate in self.directorates:
            if candidate.id == directorate_id:
                return candidate
        raise ConfigError(f"{self.path.name}: no hay ninguna dirección '{directorate_id}'")

    def directorate_name(self, directorate_id: str) -> str:
        """The Spanish name of a directorate: this configuration's, else the catalog's, else its id."""
        for candidate in self.directorates:
            if candidate.id == directorate_id:
                return candidate.name
        return self.catalog.directorate_names.get(directorate_id, directorate_id)



# --------------------------------------------------------------------------- loading

_TOP_KEYS = ("institution", "catalog", "inbox", "data_dir", "publish", "privacy", "directorates", "documents")
_DIRECTORATE_KEYS = ("id", "name", "sources")
_SOURCE_KEYS = ("id", "type", "items")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def _read_yaml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"No existe el archivo de configuración '{path}'") from None
    except (OSError, UnicodeDecodeError):
        raise ConfigError(f"No se puede leer el archivo de configuración '{path}' (¿está en UTF-8?)") from None
    try:
        doc = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (línea {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"{path.name}: el YAML no es válido{line}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path.name}: se esperaba una sección 'institution' y una lista 'directorates'")
    return doc


def _resolve(base: Path, value: Path) -> Path:
    return value if value.is_absolute() else base / value


def _check_id(value: Any, where: str) -> str:
    text = _coerce(value, str, where)
    if not _ID.match(text):
        raise ConfigError(f"{where}: '{text}' no es un identificador válido (minúsculas, dígitos, '-' o '_')")
    return text


def _item(catalog: Catalog, ref: Any, where: str) -> Item:
    try:
        return catalog.get(str(ref))
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc.message}") from None


def _parse_source(raw: Any, where: str, directorate: dict, catalog: Catalog, fed: dict[str, str]) -> SourceConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: se esperaba una fuente con 'id', 'type' e 'items'")
    kind = raw.get("type")
    if kind in (None, ""):
        raise ConfigError(f"{where}: falta la clave obligatoria 'type' (el conector: file o database)")
    plugin = connector(kind, where)
    allowed = list(_SOURCE_KEYS) + [f.name for f in dataclasses.fields(plugin.settings)]
    check_keys(raw, where, allowed, required=("id", "type", "items"))
    source_id = _check_id(raw["id"], f"{where}.id")
    settings = build(plugin.settings, {k: v for k, v in raw.items() if k not in _SOURCE_KEYS}, where)
    items_raw = raw["items"]
    if not isinstance(items_raw, dict) or not items_raw:
        raise ConfigError(f"{where}.items: se esperaba al menos un punto, p. ej. 'planilla: {{}}'")
    items: dict[str, Any] = {}
    for ref, options in items_raw.items():
        item_where = f"{where}.items.{ref}"
        item = _item(catalog, ref, item_where)
        if item.kind is not ItemKind.DATASET:
            raise ConfigError(f"{item_where}: el punto {item.code} ({item.name}) es un documento; va en 'documents', no en una fuente")
        if item.code in fed:
            raise ConfigError(f"{item_where}: el punto {item.code} ya lo alimenta la fuente '{fed[item.code]}'")
        fed[item.code] = source_id
        items[item.code] = build(plugin.item_options, options, item_where)
    return SourceConfig(id=source_id, type=kind, directorate=directorate["id"],
                        directorate_name=directorate["name"], settings=settings, items=items, where=where)


def _parse_directorates(raw: Any, where: str, catalog: Catalog) -> tuple[Directorate, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{where}: se esperaba una lista de direcciones, cada una con 'id', 'name' y 'sources'")
    directorates: list[Directorate] = []
    seen_sources: set[str] = set()
    fed: dict[str, str] = {}
    for i, entry in enumerate(raw):
        d_where = f"{where}[{i}]"
        check_keys(entry, d_where, _DIRECTORATE_KEYS, required=("id", "name"))
        info = {"id": _check_id(entry["id"], f"{d_where}.id"), "name": _coerce(entry["name"], str, f"{d_where}.name")}
        if any(d.id == info["id"] for d in directorates):
            raise ConfigError(f"{d_where}.id: la dirección '{info['id']}' está repetida")
        sources_raw = entry.get("sources") or []
        if not isinstance(sources_raw, list):
            raise ConfigError(f"{d_where}.sources: se esperaba una lista de fuentes")
        sources = []
        for j, source_raw in enumerate(sources_raw):
            source = _parse_source(source_raw, f"{d_where}.sources[{j}]", info, catalog, fed)
            if source.id in seen_sources:
                raise ConfigError(f"{d_where}.sources[{j}].id: la fuente '{source.id}' está repetida")
            seen_sources.add(source.id)
            sources.append(source)
        directorates.append(Directorate(info["id"], info["name"], tuple(sources)))
    return tuple(directorates)


def _parse_privacy(raw: Any, where: str, catalog: Catalog) -> dict[str, dict[str, PrivacyPolicy]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: se esperaba 'punto: {{campo: política}}', p. ej. 'planilla: {{cedula: mask}}'")
    privacy: dict[str, dict[str, PrivacyPolicy]] = {}
    for ref, fields in raw.items():
        item_where = f"{where}.{ref}"
        item = _item(catalog, ref, item_where)
        schema = item.table_schema()
        fields = check_keys(fields, item_where, schema.field_names)
        policies: dict[str, PrivacyPolicy] = {}
        for name, policy in fields.items():
            if schema.field(name).personal_data is PrivacyPolicy.NEVER:
                raise ConfigError(f"{item_where}.{name}: el campo '{name}' nunca se publica (dato personal protegido) y no se puede cambiar su política")
            policies[name] = PrivacyPolicy.parse_override(policy, f"{item_where}.{name}")
        try:
            schema.treatments(policies)  # the rules publishing applies (masking only text), checked now
        except ConfigError as exc:
            raise ConfigError(f"{item_where}: {exc.message}") from None
        privacy[item.code] = policies
    return privacy


def _parse_publish(raw: Any, where: str, base: Path) -> PublishSettings:
    raw = dict(check_keys(raw, where, [f.name for f in dataclasses.fields(PublishSettings)]))
    ckan_raw = raw.pop("ckan", None)
    settings = build(PublishSettings, raw, where)
    target = Target.parse(settings.target, f"{where}.target")
    formats = tuple(OutputFormat.parse_data(fmt, f"{where}.formats[{i}]") for i, fmt in enumerate(settings.formats))
    if not formats:
        raise ConfigError(f"{where}.formats: indique al menos un formato: {', '.join(OutputFormat.data_formats())}")
    ckan = build(CkanSettings, ckan_raw, f"{where}.ckan") if ckan_raw is not None else None
    if ckan is not None and ckan.token_file is not None:
        ckan = dataclasses.replace(ckan, token_file=_resolve(base, ckan.token_file))
    if target is Target.CKAN and ckan is None:
        raise ConfigError(f"{where}.ckan: con target: ckan hace falta la sección 'ckan' (url y token_env)")
    return dataclasses.replace(settings, target=target, formats=formats, local_dir=_resolve(base, settings.local_dir),
                               ckan=ckan)


def _parse_documents(raw: Any, where: str, catalog: Catalog, base: Path) -> tuple[DocumentEntry, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: se esperaba una lista de documentos, cada uno con 'item' y 'url' o 'path'")
    documents = []
    for i, entry in enumerate(raw):
        doc_where = f"{where}[{i}]"
        doc = build(DocumentEntry, entry, doc_where)
        item = _item(catalog, doc.item, f"{doc_where}.item")
        if item.kind is not ItemKind.DOCUMENT:
            raise ConfigError(f"{doc_where}.item: el punto {item.code} ({item.name}) tiene datos tabulares; se alimenta desde una fuente, no desde 'documents'")
        path = _resolve(base, doc.path) if doc.path is not None else None
        documents.append(dataclasses.replace(doc, item=item.code, path=path))
    return tuple(documents)


def _check_schemas(directorates: tuple[Directorate, ...], catalog: Catalog, name: str) -> None:
    """The schema of every item a source feeds, with its row rules' parameters and its personal-data
    markers, is checked at load time: a mistake there is a configuration error, not a failed month."""
    for code in sorted({code for d in directorates for s in d.sources for code in s.items}):
        schema = catalog.get(code).table_schema()
        try:
            schema.check_rules()
            schema.treatments()
        except ConfigError as exc:
            raise ConfigError(f"{name}: punto {code}: {exc.message}") from None


def load_config(path: str | Path) -> InstitutionConfig:
    """Read and validate an institution configuration file; the catalog override is applied."""
    path = Path(path)
    doc = _read_yaml(path)
    name = path.name
    check_keys(doc, name, _TOP_KEYS, required=("institution", "directorates"))
    base = path.resolve().parent
    institution = build(Institution, doc["institution"], f"{name}: institution")
    if not _ID.match(institution.organization):
        raise ConfigError(f"{name}: institution.organization: '{institution.organization}' no es un nombre de organización de CKAN (minúsculas, dígitos, '-' o '_')")
    override = doc.get("catalog")
    catalog_path = _resolve(base, _coerce(override, Path, f"{name}: catalog")) if override is not None else None
    try:
        catalog = load_catalog(catalog_path)
    except ConfigError as exc:
        raise ConfigError(f"{name}: catalog: {exc.message}") from None
    inbox = _resolve(base, _coerce(doc.get("inbox", "."), Path, f"{name}: inbox"))
    data_dir = _resolve(base, _coerce(doc.get("data_dir", "."), Path, f"{name}: data_dir"))
    directorates = _parse_directorates(doc["directorates"], f"{name}: directorates", catalog)
    _check_schemas(directorates, catalog, name)
    return InstitutionConfig(
        path=path,
        institution=institution,
        catalog=catalog,
        directorates=directorates,
        documents=_parse_documents(doc.get("documents"), f"{name}: documents", catalog, base),
        publish=_parse_publish(doc.get("publish"), f"{name}: publish", base),
        privacy=_parse_privacy(doc.get("privacy"), f"{name}: privacy", catalog),
        base_dir=base,
        inbox=inbox,
        data_dir=data_dir,
    )
