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

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, cast

import yaml
from pydantic import BeforeValidator, Field, create_model

from transparencia.domain import (
    ItemKind,
    MailSecurity,
    OutputFormat,
    PrivacyPolicy,
    ReleaseSchedule,
    Target,
    Workspace,
    load_yaml,
)
from transparencia.domain.schedule import RELEASE_CRON, RELEASE_TIMEZONE
from transparencia.errors import ConfigError
from transparencia.schemas.catalog import Catalog, Item, load_catalog
from transparencia.schemas.spec import (
    HERE,
    Date,
    EmailAddress,
    Flag,
    Integer,
    PathValue,
    Spec,
    Text,
    invalid,
    parse,
    shaped,
    suggestion,
)
from transparencia.schemas.table import NeverPublishedError
from transparencia.sources.registry import connector
from transparencia.sources.secrets import resolve_secret

# Where the CLI and the deployments look for the configuration unless told otherwise.
DEFAULT_CONFIG = Path(os.environ.get("TRANSPARENCIA_CONFIG", "data/institution.yaml"))
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def _identifier(value: object) -> object:
    if isinstance(value, str) and value.strip() and not _ID.match(value):
        raise invalid(f"'{value}' no es un identificador válido (minúsculas, dígitos, '-' o '_')")
    return value


def _organization(value: object) -> object:
    if isinstance(value, str) and value.strip() and not _ID.match(value):
        raise invalid(f"'{value}' no es un nombre de organización de CKAN (minúsculas, dígitos, '-' o '_')")
    return value


def _target(value: object) -> Target:
    try:
        return Target.parse(value, "")
    except ConfigError as exc:
        raise invalid(exc.message.removeprefix(": ")) from None


def _security(value: object) -> MailSecurity:
    try:
        return MailSecurity.parse(value, "")
    except ConfigError as exc:
        raise invalid(exc.message.removeprefix(": ")) from None


def _web_address(value: object, what: str) -> str | None:
    """An http(s) address, stripped; None for a blank value (absent)."""
    if not isinstance(value, str) or not value.strip():
        return None
    address = value.strip()
    if not re.match(r"^https?://[^/\s]+(/\S*)?$", address):
        raise invalid(f"'{address}' no es una dirección web (https://…) {what}")
    return address


def _public_url(value: object) -> object:
    """Where the local catalog folder is served, kept with a final '/'."""
    address = _web_address(value, "donde se publica el catálogo")
    return value if address is None else address.rstrip("/") + "/"


def _portal_public_url(value: object) -> object:
    """The portal's address as the public reaches it, kept without a final '/'."""
    address = _web_address(value, "del portal")
    return value if address is None else address.rstrip("/")


def _data_format(value: object) -> OutputFormat:
    try:
        return OutputFormat.parse_data(value, "")
    except ConfigError as exc:
        raise invalid(exc.message.removeprefix(": ")) from None


Identifier = Annotated[Text, BeforeValidator(_identifier)]


class Institution(Spec):
    """Publishing identity. ``organization`` is the CKAN organization name as configured, never derived."""

    name: Text
    acronym: Text
    organization: Annotated[Text, BeforeValidator(_organization)]
    license_id: Text = "cc-zero"
    maintainer: Text | None = None
    maintainer_email: Text | None = None
    url: Text | None = None
    # The transparency officer's address: the month's summary goes there, and directorates are told to
    # write there with questions.
    officer_email: EmailAddress | None = None


# --------------------------------------------------------------------------- sections


def _megabytes(value: object) -> float:
    """A positive size in megabytes (``publish.ckan.max_body_mb``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise invalid(f"se esperaba un tamaño en megabytes mayor que cero, no '{value}'")
    return float(value)


Megabytes = Annotated[float, BeforeValidator(_megabytes)]


class CkanSettings(Spec):
    """Where the CKAN portal is and how to authenticate; only names of env vars or files, never the token."""

    url: Text | None = None
    url_env: Text | None = None
    token_env: Text | None = None
    token_file: PathValue | None = None
    # The portal's address as the public reaches it, for every link in a published file; needed when
    # ``url`` is an internal one (a tunnel, a private network), else ``url`` itself.
    public_url: Annotated[Text, BeforeValidator(_portal_public_url)] | None = None
    # The largest JSON request a DataStore load sends (portals sit behind proxies that refuse bodies
    # over 1–10 MB); unset, the publisher's default (``ckan_datastore.MAX_BODY_BYTES``).
    max_body_mb: Megabytes | None = None

    @property
    def max_body(self) -> int | None:
        """``max_body_mb`` in bytes."""
        return None if self.max_body_mb is None else int(self.max_body_mb * 1_000_000)

    def check(self, where: str) -> None:
        if bool(self.url) == bool(self.url_env):
            raise ConfigError(f"{where}: indique 'url' o 'url_env' (uno de los dos)")
        if bool(self.token_env) == bool(self.token_file):
            raise ConfigError(f"{where}: indique 'token_env' o 'token_file' (el token nunca va en el archivo)")

    def resolve_url(self) -> str:
        return self.url or resolve_secret(env=self.url_env, what="publish.ckan.url_env")

    def resolve_token(self) -> str:
        return resolve_secret(env=self.token_env, file=self.token_file, what="publish.ckan")


_FORMATS_HINT = f"indique al menos un formato: {', '.join(OutputFormat.data_formats())}"


def _minutes(value: object) -> float:
    """A positive number of minutes (``publish.review_timeout``); fractions allowed (0.5 is 30 s)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise invalid(f"se esperaba un número de minutos mayor que cero, no '{value}'")
    return float(value)


Minutes = Annotated[float, BeforeValidator(_minutes)]
REVIEW_TIMEOUT_MINUTES = 24 * 60  # a working day and a night for the officer to decide
LEASE_WAIT_MINUTES = 30  # longer than a large month takes to publish


class PublishSettings(Spec):
    target: Annotated[Target, BeforeValidator(_target)] = Target.LOCAL
    local_dir: PathValue = Path("published")
    # The address the local catalog folder is served at: catalog.json names its datasets and files by it.
    public_url: Annotated[Text, BeforeValidator(_public_url)] | None = None
    formats: Annotated[tuple[Annotated[OutputFormat, BeforeValidator(_data_format)], ...],
                       shaped(list, _FORMATS_HINT, non_empty=True)] = (
        OutputFormat.CSV, OutputFormat.XLSX, OutputFormat.JSON)
    ckan: CkanSettings | None = None
    # The officer approves the month's preview in the Prefect UI before anything is published
    # (``flows.review``); with no decision within ``review_timeout`` minutes nothing is published.
    review: Flag = False
    review_timeout: Minutes = REVIEW_TIMEOUT_MINUTES
    # How long a run waits for another run of the institution (another month, another machine) to
    # finish with the portal before it gives up (``publishers.ckan_portal``: the institution's lease).
    lease_wait: Minutes = LEASE_WAIT_MINUTES

    def reviews(self, override: bool | None = None, dry_run: bool = False) -> bool:
        """Whether a run waits for the officer's approval: the run's own choice, else the configuration's;
        a dry run publishes nothing, so it is never reviewed."""
        return not dry_run and (self.review if override is None else override)

    def check(self, where: str) -> None:
        if self.target is Target.CKAN and self.ckan is None:
            raise ConfigError(f"{where}.ckan: con target: ckan hace falta la sección 'ckan' (url y token_env)")

    def under(self, base: Path) -> PublishSettings:
        """These settings with their relative paths read from the configuration's folder."""
        ckan = self.ckan
        if ckan is not None and ckan.token_file is not None:
            ckan = ckan.model_copy(update={"token_file": _resolve(base, ckan.token_file)})
        return self.model_copy(update={"local_dir": _resolve(base, self.local_dir), "ckan": ckan})


class ScheduleSettings(Spec):
    """When the scheduled release runs; the month's deadline for the directorates follows from it."""

    cron: Text = RELEASE_CRON
    timezone: Text = RELEASE_TIMEZONE

    def build(self, where: str) -> ReleaseSchedule:
        try:
            return ReleaseSchedule(self.cron, self.timezone)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc.message}") from None
class SmtpSettings(Spec):
    """The SMTP server that delivers the notifications; the password is read from an environment
    variable or a file when a message is sent, never written in the configuration."""

    host: Text
    port: Integer | None = None  # by default the security's usual port (587, 465 or 25)
    security: Annotated[MailSecurity, BeforeValidator(_security)] = MailSecurity.STARTTLS
    user: Text | None = None
    password: Text | None = None  # refused by ``check``: named only to say where the password goes instead
    password_env: Text | None = None
    password_file: PathValue | None = None
    timeout: Integer = 30  # seconds to connect and for each answer of the server

    def check(self, where: str) -> None:
        if self.password is not None:
            raise ConfigError(f"{where}: la contraseña nunca va en el archivo: indique 'password_env' (una "
                              "variable de entorno) o 'password_file' (un archivo que la contiene)")
        if self.password_env and self.password_file:
            raise ConfigError(f"{where}: indique 'password_env' o 'password_file' (uno de los dos)")
        if self.user and not (self.password_env or self.password_file):
            raise ConfigError(f"{where}: con 'user' hace falta 'password_env' o 'password_file'")
        if not self.user and (self.password_env or self.password_file):
            raise ConfigError(f"{where}: falta 'user', el usuario de la contraseña indicada")
        if self.port is not None and not 0 < self.port < 65536:
            raise ConfigError(f"{where}.port: se esperaba un puerto entre 1 y 65535, no {self.port}")
        if self.timeout <= 0:
            raise ConfigError(f"{where}.timeout: debe ser un número entero positivo (segundos)")

    @property
    def effective_port(self) -> int:
        return self.port or self.security.default_port

    def resolve_password(self) -> str | None:
        """The password, read now from its variable or file; None when the server takes no login."""
        if not self.user:
            return None
        return resolve_secret(env=self.password_env, file=self.password_file, what="notifications.smtp")


class NotificationSettings(Spec):
    """E-mail to the directorates (reminders, their observaciones) and to the officer (the month's summary)."""

    smtp: SmtpSettings
    sender: EmailAddress = Field(alias="from")
    # Reminders go this many days before the deadline to every directorate whose input has not arrived.
    reminder_days: Integer = 3

    def check(self, where: str) -> None:
        if not 0 <= self.reminder_days <= 27:
            raise ConfigError(f"{where}.reminder_days: se esperaba un número de días entre 0 y 27, "
                              f"no {self.reminder_days}")

    def under(self, base: Path) -> NotificationSettings:
        """These settings with the password file read from the configuration's folder."""
        if self.smtp.password_file is None:
            return self
        smtp = self.smtp.model_copy(update={"password_file": _resolve(base, self.smtp.password_file)})
        return self.model_copy(update={"smtp": smtp})


class DocumentEntry(Spec):
    """A document item (kind: document) kept current as a link or a file."""

    item: Text  # catalog code
    url: Text | None = None
    path: PathValue | None = None
    updated: Date | None = None
    title: Text | None = None

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
    contacts: tuple[str, ...] = ()  # e-mail addresses that receive the directorate's reminders and observaciones


@dataclass(frozen=True)
class InstitutionConfig:
    path: Path
    institution: Institution
    catalog: Catalog
    directorates: tuple[Directorate, ...]
    documents: tuple[DocumentEntry, ...]
    publish: PublishSettings
    notifications: NotificationSettings | None  # None: no e-mail is sent
    privacy: Mapping[str, Mapping[str, PrivacyPolicy]]  # item code -> field -> policy (overrides only)
    base_dir: Path  # folder of the configuration file
    inbox: Path  # base for relative source paths
    data_dir: Path  # where data/raw/<period>/... lives
    schedule: ReleaseSchedule = field(default_factory=ReleaseSchedule)  # the release's cron, hence the deadline

    @property
    def workspace(self) -> Workspace:
        """The layout of ``data_dir`` (raw inputs, store, build, runs, reports, cache)."""
        return Workspace(self.data_dir)

    @property
    def sources(self) -> tuple[SourceConfig, ...]:
        return tuple(s for d in self.directorates for s in d.sources)

    def source(self, source_id: str) -> SourceConfig:
        for candidate in self.sources:
            if candidate.id == source_id:
                return candidate
        known = ", ".join(s.id for s in self.sources) or "ninguna"
        raise ConfigError(f"{self.path.name}: no hay ninguna fuente '{source_id}'{suggestion(source_id, [s.id for s in self.sources])}. Fuentes: {known}")

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

_SOURCE_KEYS = ("id", "type", "items")


class _Document(Spec):
    """The file's top level; directorates, documents and privacy are read against the catalog after."""

    institution: Institution
    catalog: PathValue | None = None
    inbox: PathValue = Path(".")
    data_dir: PathValue = Path(".")
    publish: PublishSettings = PublishSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    notifications: NotificationSettings | None = None
    privacy: Annotated[dict[str, Any], shaped(
        dict, "se esperaba 'punto: {campo: política}', p. ej. 'planilla: {cedula: mask}'")] = {}  # noqa: RUF012
    directorates: Annotated[tuple[Any, ...], shaped(
        list, "se esperaba una lista de direcciones, cada una con 'id', 'name' y 'sources'", non_empty=True)]
    documents: Annotated[tuple[Any, ...], shaped(
        list, "se esperaba una lista de documentos, cada uno con 'item' y 'url' o 'path'")] = ()

    def check(self, where: str) -> None:
        if self.notifications is not None and not self.institution.officer_email:
            raise ConfigError(f"{where}: institution: con 'notifications' hace falta 'officer_email', la "
                              "dirección del oficial de transparencia que recibe el resumen del mes")


class _DirectorateEntry(Spec):
    id: Identifier
    name: Text
    contacts: Annotated[tuple[EmailAddress, ...], shaped(
        list, "se esperaba una lista de direcciones de correo, p. ej. [planilla@institucion.gob.pa]")] = ()
    sources: Annotated[tuple[Any, ...], shaped(list, "se esperaba una lista de fuentes")] = ()


class _SourceKeys(Spec):
    """The keys every source has, beside its connector's settings."""

    id: Identifier
    type: Text
    items: Annotated[dict[str, Any], shaped(dict, "se esperaba al menos un punto, p. ej. 'planilla: {}'",
                                            non_empty=True)]


@cache
def _source_model(settings: type[Spec]) -> type[_SourceKeys]:
    """A source's whole entry: its connector's settings and the keys every source has."""
    return cast(type[_SourceKeys], create_model(f"{settings.__name__}Source", __base__=(settings, _SourceKeys)))


def _policy(value: object) -> PrivacyPolicy:
    try:
        return PrivacyPolicy.parse_override(value, HERE)
    except ConfigError as exc:
        raise invalid(exc.message.removeprefix(f"{HERE}: ")) from None


Override = Annotated[PrivacyPolicy, BeforeValidator(_policy)]


@cache
def _privacy_model(field_names: tuple[str, ...]) -> type[Spec]:
    """An item's privacy overrides: one optional policy per field of its schema."""
    fields: dict[str, Any] = {f"field_{i}": (Override | None, Field(default=None, alias=name))
                              for i, name in enumerate(field_names)}
    return create_model("PrivacyOverrides", __base__=Spec, **fields)


def _read_yaml(path: Path) -> dict[str, Any]:
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


def _item(catalog: Catalog, ref: object, where: str) -> Item:
    try:
        return catalog.get(str(ref))
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc.message}") from None


def _parse_source(raw: Any, where: str, directorate: _DirectorateEntry, catalog: Catalog,
                  fed: dict[str, str]) -> SourceConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: se esperaba una fuente con 'id', 'type' e 'items'")
    kind = raw.get("type")
    if kind in (None, ""):
        raise ConfigError(f"{where}: falta la clave obligatoria 'type' (el conector: file o database)")
    plugin = connector(kind, where)
    keys = parse(_source_model(plugin.settings), raw, where)
    settings = parse(plugin.settings, {k: v for k, v in raw.items() if k not in _SOURCE_KEYS}, where)
    items: dict[str, Spec] = {}
    for ref, options in keys.items.items():
        item_where = f"{where}.items.{ref}"
        item = _item(catalog, ref, item_where)
        if item.kind is not ItemKind.DATASET:
            raise ConfigError(f"{item_where}: el punto {item.code} ({item.name}) es un documento; va en 'documents', no en una fuente")
        if item.code in fed:
            raise ConfigError(f"{item_where}: el punto {item.code} ya lo alimenta la fuente '{fed[item.code]}'")
        fed[item.code] = keys.id
        items[item.code] = parse(plugin.item_options, options, item_where)
    return SourceConfig(id=keys.id, type=keys.type, directorate=directorate.id,
                        directorate_name=directorate.name, settings=settings, items=items, where=where)


def _parse_directorates(raw: tuple[Any, ...], where: str, catalog: Catalog) -> tuple[Directorate, ...]:
    directorates: list[Directorate] = []
    seen_sources: set[str] = set()
    fed: dict[str, str] = {}
    for i, entry in enumerate(raw):
        d_where = f"{where}[{i}]"
        info = parse(_DirectorateEntry, entry, d_where)
        if any(d.id == info.id for d in directorates):
            raise ConfigError(f"{d_where}.id: la dirección '{info.id}' está repetida")
        sources = []
        for j, source_raw in enumerate(info.sources):
            source = _parse_source(source_raw, f"{d_where}.sources[{j}]", info, catalog, fed)
            if source.id in seen_sources:
                raise ConfigError(f"{d_where}.sources[{j}].id: la fuente '{source.id}' está repetida")
            seen_sources.add(source.id)
            sources.append(source)
        directorates.append(Directorate(info.id, info.name, tuple(sources), info.contacts))
    return tuple(directorates)


def _parse_privacy(raw: Mapping[str, Any], where: str, catalog: Catalog) -> dict[str, dict[str, PrivacyPolicy]]:
    privacy: dict[str, dict[str, PrivacyPolicy]] = {}
    for ref, fields in raw.items():
        item_where = f"{where}.{ref}"
        schema = _item(catalog, ref, item_where).table_schema()
        chosen = parse(_privacy_model(tuple(schema.field_names)), fields, item_where).model_dump(by_alias=True, exclude_none=True)
        try:
            schema.treatments(chosen)  # the rules publishing applies (never, masking only text), checked now
        except NeverPublishedError as exc:
            raise ConfigError(f"{item_where}.{exc.field}: el campo '{exc.field}' nunca se publica "
                              "(dato personal protegido) y no se puede cambiar su política") from None
        except ConfigError as exc:
            raise ConfigError(f"{item_where}: {exc.message}") from None
        privacy[catalog.get(str(ref)).code] = chosen
    return privacy


def _parse_documents(raw: tuple[Any, ...], where: str, catalog: Catalog, base: Path) -> tuple[DocumentEntry, ...]:
    documents = []
    for i, entry in enumerate(raw):
        doc_where = f"{where}[{i}]"
        doc = parse(DocumentEntry, entry, doc_where)
        item = _item(catalog, doc.item, f"{doc_where}.item")
        if item.kind is not ItemKind.DOCUMENT:
            raise ConfigError(f"{doc_where}.item: el punto {item.code} ({item.name}) tiene datos tabulares; se alimenta desde una fuente, no desde 'documents'")
        path = _resolve(base, doc.path) if doc.path is not None else None
        documents.append(doc.model_copy(update={"item": item.code, "path": path}))
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
    name = path.name
    doc = parse(_Document, _read_yaml(path), name)
    base = path.resolve().parent
    try:
        catalog = load_catalog(_resolve(base, doc.catalog) if doc.catalog is not None else None)
    except ConfigError as exc:
        raise ConfigError(f"{name}: catalog: {exc.message}") from None
    directorates = _parse_directorates(doc.directorates, f"{name}: directorates", catalog)
    _check_schemas(directorates, catalog, name)
    return InstitutionConfig(
        path=path,
        institution=doc.institution,
        catalog=catalog,
        directorates=directorates,
        documents=_parse_documents(doc.documents, f"{name}: documents", catalog, base),
        publish=doc.publish.under(base),
        notifications=doc.notifications.under(base) if doc.notifications is not None else None,
        privacy=_parse_privacy(doc.privacy, f"{name}: privacy", catalog),
        base_dir=base,
        inbox=_resolve(base, doc.inbox),
        data_dir=_resolve(base, doc.data_dir),
        schedule=doc.schedule.build(f"{name}: schedule"),
    )
