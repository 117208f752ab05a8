"""Every name a published dataset, resource or extra goes by, on every backend, spelt once.

A name is an identity, not a label: a re-run finds the dataset by its name and replaces the
resource of the same name, the national monitor finds other institutions' reports by their tag,
extra and name, and an interrupted CKAN run is recognised by the suffixes of what it left. A name
changed in one place and not in another would publish a second resource beside the first, or
lose a report; so every module asks here.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from transparencia.domain import OutputFormat, Period

# -- extras ------------------------------------------------------------------------------------

# The dataset extras as every backend spells them (CKAN extras, the local catalog's metadata).
EXTRA_KEYS = {
    "frequency": "frecuencia", "coverage": "cobertura temporal", "legal_basis": "base legal",
    "directorate": "dirección responsable", "item_code": "código del punto", "kind": "tipo",
}
KIND_EXTRA = EXTRA_KEYS["kind"]
PERIOD_EXTRA = "periodo"  # a month's resource on CKAN: the month (AAAA-MM) it holds
# A compliance report's resource metadata: the month's points, read by the national monitor.
REPORT_POINT_KEYS = ("institucion", "puntos_cumplidos", "puntos_aplicables", "puntos_faltantes", "puntos_vencidos",
                     "puntos_rechazados")
# The extra every dataset this tool publishes on a portal carries: a dataset without it (or under another
# organization) is someone else's, and no run writes to it.
MARKER_EXTRA = "gestionado por"
MARKER_VALUE = "transparencia"

# -- datasets ----------------------------------------------------------------------------------

REPORT_TAG = "cumplimiento"  # with the extra ``tipo``, how the national monitor finds reports on a portal
REPORT_KIND = "informe-cumplimiento"
REPORT_NAME_SUFFIX = "-informe-cumplimiento"  # how reports of earlier versions (no ``tipo``) are recognised
MONITOR_KIND = "monitoreo-nacional"
PORTAL_NAME_MAX = 100  # CKAN's limit on a dataset's name


def report_dataset_name(acronym: str) -> str:
    """The institution's compliance report dataset."""
    return f"{acronym.lower()}{REPORT_NAME_SUFFIX}"


def portal_dataset_name(organization: str, dataset: str) -> str:
    """The dataset's name on a portal, where names are global: qualified by its organization (unique on
    the portal), so two institutions with the same acronym never meet on one name.

    A name that already starts with the organization (the monitor's, the control dataset's) is kept.
    The result is a valid CKAN name: lower case, ``[a-z0-9_-]``, at most ``PORTAL_NAME_MAX``
    characters (a longer one is cut and ends with a digest of the whole, so it stays unique)."""
    qualified = _portal_safe(dataset if dataset.startswith(f"{organization}-") else f"{organization}-{dataset}")
    if len(qualified) <= PORTAL_NAME_MAX:
        return qualified
    digest = hashlib.sha256(qualified.encode("utf-8")).hexdigest()[:10]
    return f"{qualified[:PORTAL_NAME_MAX - len(digest) - 1].rstrip('-_')}-{digest}"


def _portal_safe(name: str) -> str:
    """``name`` in CKAN's alphabet: accents dropped, lower case, any other character a '-'."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", name.lower()) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9_-]+", "-", folded).strip("-")


def monitor_dataset_name(organization: str) -> str:
    """The national monitor's dataset, in the organization that publishes it."""
    return f"{organization}-monitoreo-nacional-transparencia"


def control_dataset_name(organization: str) -> str:
    """The organization's private CKAN dataset that holds the publication leases."""
    return f"{organization}-transparencia-control"


# The control dataset's extras: the institution's lease (one for every period), and the record of
# the leases broken (by ``desbloquear``, or because their process had died), newest first.
LEASE_EXTRA = "bloqueo"
BROKEN_LEASES_EXTRA = "bloqueos_rotos"
LEGACY_LEASE_PREFIX = "bloqueo_"  # the per-period leases of earlier versions ("bloqueo_2025-01")


def staging_dataset_name(dataset: str) -> str:
    """The private CKAN dataset where a dataset's new files are prepared before they are shown
    together (``publishers.ckan_staging``)."""
    return f"{dataset}-preparacion"


# -- resources of an item's dataset ------------------------------------------------------------


def month_resource_name(label: str, period: Period | str, fmt: str) -> str:
    return f"{label} {period} ({fmt.upper()})"


def history_resource_name(label: str, fmt: str) -> str:
    return f"{label} — histórico ({fmt.upper()})"


def report_resource_name(label: str, period: Period | str, fmt: str) -> str:
    return f"{label} {period} — informe de validación ({fmt.upper()})"


def changes_resource_name(label: str, period: Period | str, fmt: str) -> str:
    return f"{label} {period} — cambios respecto al mes anterior ({fmt.upper()})"


def chart_resource_name(label: str) -> str:
    return f"{label} — gráfico mensual (SVG)"


def package_resource_name(label: str) -> str:
    return f"{label} — paquete de datos (datapackage.json)"


def withdrawals_resource_name(label: str) -> str:
    return f"{label} — retiros de publicación (CSV)"


def withdrawn_resource_names(label: str, period: Period | str, history_too: bool) -> list[str]:
    """Every resource a month may have published (any format), and what describes the whole
    history (history files, chart, Data Package) when the last month goes too."""
    names = [month_resource_name(label, period, fmt) for fmt in OutputFormat.data_formats()]
    names += [report_resource_name(label, period, fmt) for fmt in ("json", "html")]
    names += [changes_resource_name(label, period, fmt) for fmt in ("csv", "json")]
    whole = [history_resource_name(label, fmt) for fmt in OutputFormat.data_formats()] + [chart_resource_name(label),
                                                                                           package_resource_name(label)]
    return names + (whole if history_too else [])


# -- resources of the compliance report and the national monitor -------------------------------


REPORT_LABEL = "Informe de cumplimiento"  # how the compliance report's resources begin


def compliance_resource_name(period: Period | str, fmt: OutputFormat) -> str:
    return f"{REPORT_LABEL} {period} ({fmt.label})"


def compliance_history_name() -> str:
    """The CSV of every month's report, one row per item and month."""
    return history_resource_name(REPORT_LABEL, OutputFormat.CSV)


def compliance_package_name() -> str:
    return package_resource_name(REPORT_LABEL)


def monitor_resource_name(period: Period | str, fmt: OutputFormat) -> str:
    return f"Monitoreo nacional {period} ({fmt.label})"


# -- what an interrupted CKAN run leaves ---------------------------------------------------------

# Earlier versions loaded a table behind a public resource with this suffix and renamed it in; new
# files are now prepared in the staging dataset (``staging_dataset_name``), and these are only removed.
STAGING_SUFFIX = " (cargando)"
RETIRED_SUFFIX = " (reemplazado)"


def is_leftover(name: str) -> bool:
    """A staging or retired resource: what only an interrupted run leaves behind."""
    return name.endswith((STAGING_SUFFIX, RETIRED_SUFFIX))
