"""Findings: each is a typed error with an id, a Spanish message template and where it happened.

A report is data first (``to_dict``), text second. ``error`` findings block publication of the
item; ``warning`` findings do not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from transparencia.domain import Period, Severity
from transparencia.sources.extraction import SourceRef


@dataclass(frozen=True)
class FindingType:
    id: str
    title: str  # Spanish
    template: str  # Spanish, str.format with the finding's ``params`` plus column/value


@dataclass(frozen=True)
class Finding:
    rule: str  # FindingType.id
    severity: Severity
    message: str  # Spanish, rendered from the type's template
    column: str | None = None
    row: int | None = None  # source row number, as seen in the spreadsheet
    value: object = None
    file: str | None = None
    sheet: str | None = None
    # The template's other parameters (and ``parts``, a compound key's values one by one), so that
    # publishing can render the message again from a masked or omitted value.
    params: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # What the directorate sees: its own header text for ``column`` ("Monto Total"; a compound key's
    # headers joined by ", ") and the cell ("G14"; a compound key's first column). None when the
    # source has no such header (a column it lacks, the period the run supplied) or no cells (a query).
    header: str | None = None
    cell: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule, "severity": self.severity, "column": self.column, "row": self.row,
            "value": self.value, "message": self.message, "file": self.file, "sheet": self.sheet,
            "header": self.header, "cell": self.cell,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """A finding as ``to_dict`` wrote it (the run ledger's); its template parameters are not kept."""
        return cls(str(data["rule"]), Severity(data["severity"]), str(data["message"]), data.get("column"),
                   data.get("row"), data.get("value"), data.get("file"), data.get("sheet"),
                   header=data.get("header"), cell=data.get("cell"))

    def located(self, header: str | None, cell: str | None) -> Finding:
        """The finding with the directorate's header and cell, its message naming them."""
        message = self.message + where_suffix(header, cell)
        return replace(self, header=header, cell=cell, message=message)


def where_suffix(header: str | None, cell: str | None) -> str:
    """' Ubicación: celda G14 (columna «Monto Total»).': where the directorate finds a finding, said
    after the message that names the schema's field ('' when the source has no such header)."""
    if header is None:
        return ""
    column = f"columna «{header}»"
    return f" Ubicación: celda {cell} ({column})." if cell else f" Ubicación: {column}."


@dataclass
class ValidationReport:
    """The outcome of validating one item's extraction."""

    SCHEMA_VERSION: ClassVar[int] = 1

    item: str  # catalog code
    item_name: str
    file: str
    sheet: str | None
    rows: int
    period: Period | None
    findings: list[Finding] = field(default_factory=list)
    extraction: dict[str, Any] = field(default_factory=dict)  # Extraction.summary()
    source: SourceRef | None = field(default=None, compare=False)  # the SourceRef read (publishing describes it publicly)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    @property
    def notices(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.INFO]

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "item": self.item,
            "item_name": self.item_name,
            "file": self.file,
            "sheet": self.sheet,
            "period": None if self.period is None else str(self.period),
            "rows": self.rows,
            "valid": self.valid,
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
            "notices": [f.to_dict() for f in self.notices],
            "extraction": self.extraction,
        }


# The registry of finding types: every finding's ``rule`` is one of these ids. Templates are
# rendered with ``str.format`` from the finding's column, value and the check's parameters.
FINDING_TYPES: dict[str, FindingType] = {
    t.id: t
    for t in (
        FindingType("type-error", "Valor de tipo incorrecto",
                    "El valor '{value}' de la columna '{column}' no es {expected}."),
        FindingType("excel-error", "Error de Excel en una celda",
                    "La celda{in_sheet} muestra el error de Excel {value}: {expected}."),
        FindingType("empty-marker", "Marca de vacío en un campo obligatorio",
                    "'{value}' en la columna '{column}' indica que no hay dato, pero '{title}' es obligatorio: "
                    "escriba el valor."),
        FindingType("missing-column", "Falta una columna obligatoria",
                    "Falta la columna obligatoria '{column}' ({title}). Encabezados aceptados: {accepted}."),
        FindingType("required", "Falta un valor obligatorio",
                    "Falta el valor obligatorio de '{title}' (columna '{column}')."),
        FindingType("enum", "Valor no permitido",
                    "'{value}' no es un valor permitido para '{title}'. Valores permitidos: {allowed}."),
        FindingType("pattern", "Formato incorrecto",
                    "'{value}' no tiene el formato esperado para '{title}' (patrón {pattern})."),
        FindingType("yearmonth", "Período con formato incorrecto",
                    "'{value}' no es un período válido en '{title}': se esperaba AAAA-MM (p. ej. 2025-01)."),
        FindingType("minimum", "Valor menor que el mínimo",
                    "{value} es menor que el mínimo permitido para '{title}' ({bound})."),
        FindingType("maximum", "Valor mayor que el máximo",
                    "{value} es mayor que el máximo permitido para '{title}' ({bound})."),
        FindingType("exclusive-minimum", "Valor no mayor que el mínimo",
                    "{value} no es válido para '{title}': debe ser mayor que {bound}."),
        FindingType("max-length", "Texto demasiado largo",
                    "El texto de '{title}' tiene más de {bound} caracteres: '{value}'."),
        FindingType("cedula", "Cédula no válida",
                    "La cédula '{value}' no es válida: se esperaba provincia-tomo-asiento, "
                    "p. ej. 8-123-4567, PE-1234-12345 o E-8-123456."),
        FindingType("ruc", "RUC con forma inusual",
                    "El RUC '{value}' no tiene la forma esperada (p. ej. 8-123-4567 DV 12 o 2588017-1-831938 DV 57)."),
        FindingType("duplicate-key", "Clave primaria repetida",
                    "La clave ({key}) = ({value}) se repite en más de una fila."),
        FindingType("date-order", "Fechas en orden inverso",
                    "'{title}' ({value}) es anterior a '{start_title}' ({start_value})."),
        FindingType("amount-product", "Monto que no cuadra con el producto",
                    "'{title}' es {value}, pero {factors} da {expected} (diferencia {difference})."),
        FindingType("date-in-period", "Fecha fuera del período",
                    "La fecha {value} de '{title}' no está dentro del período {period}."),
        FindingType("date-after-period", "Fecha posterior al período",
                    "La fecha {value} de '{title}' es posterior al fin del período {period}."),
        FindingType("amount-sum", "Total que no cuadra con la suma",
                    "'{title}' es {value}, pero la suma de {parts} es {expected} (diferencia {difference})."),
        FindingType("amounts-ordered", "Montos en orden incorrecto",
                    "'{title}' ({value}) es menor que '{previous_title}' ({previous_value})."),
        FindingType("period-mismatch", "Período distinto del que se valida",
                    "El período '{value}' de la fila no coincide con el período que se valida ({period})."),
        FindingType("period-evidence", "El archivo parece ser de otro mes",
                    "{subject} parece ser de {month}: {evidence}. Se está publicando {period}: "
                    "revise que sea el archivo del período."),
        FindingType("period-hint", "El nombre o el título mencionan otro mes",
                    "{evidence}, pero las fechas de las filas caen en {period}: revise el nombre o el título."),
        FindingType("cross-month-duplicate", "Fila ya publicada en otro mes",
                    "La fila ({key}) = ({value}) ya está publicada en {published}: un mismo registro "
                    "no puede contarse en dos meses."),
        FindingType("empty-month", "Mes sin filas y sin declaración",
                    "El archivo no tiene filas de datos{only}, y no declara que el período no tuvo movimientos. "
                    "Si no hubo registros, escriba «Sin movimientos en el período» en la primera fila de datos "
                    "(o declárelo en la configuración con 'empty_periods'); si no, revise la hoja elegida."),
        FindingType("empty-month-never", "Mes sin filas",
                    "El archivo no tiene filas de datos{only}: {title} nunca está vacío en un mes{declared}. "
                    "Revise que el archivo y la hoja sean los correctos."),
        FindingType("declared-empty", "Período sin movimientos",
                    "La dirección declaró el período sin movimientos ({where}): se publica como mes sin registros."),
        FindingType("declared-empty-with-rows", "Declaración que contradice los datos",
                    "El período está declarado sin movimientos ({where}), pero el archivo tiene {rows:,} filas de "
                    "datos. Quite la declaración o las filas, según corresponda."),
        FindingType("more-rows", "Más filas con el mismo problema",
                    "… y {count:,} filas más con el mismo problema ({title})."),
    )
}


def render_message(rule: str, **params: object) -> str:
    """The Spanish message of a finding of type ``rule``, from its template."""
    return FINDING_TYPES[rule].template.format(**params)


# What to write instead, per finding type: the second half of the comment a directorate reads on the
# cell of its own file (``reports.observaciones``); the message says what is wrong.
FIXES: dict[str, str] = {
    "type-error": "Escriba el valor en la forma indicada, sin texto adicional.",
    "empty-marker": "Escriba el dato; si de verdad no existe, consulte al oficial de transparencia.",
    "missing-column": "Agregue la columna con uno de los encabezados aceptados (o use la plantilla).",
    "required": "Escriba el valor: este dato es obligatorio.",
    "enum": "Escriba exactamente uno de los valores permitidos.",
    "pattern": "Escriba el valor con el formato indicado.",
    "yearmonth": "Escriba el período como AAAA-MM, p. ej. 2025-01.",
    "minimum": "Corrija el valor: no puede ser menor que el mínimo.",
    "maximum": "Corrija el valor: no puede ser mayor que el máximo.",
    "exclusive-minimum": "Escriba un valor mayor que el indicado (p. ej. el monto real, no cero ni negativo).",
    "max-length": "Acorte el texto.",
    "cedula": "Escriba la cédula como provincia-tomo-asiento, p. ej. 8-123-4567.",
    "ruc": "Revise el RUC y escríbalo como lo da la DGI, p. ej. 8-123-4567 DV 12.",
    "duplicate-key": "Deje una sola fila para esta persona o registro, o corrija la que está repetida.",
    "date-order": "Revise las dos fechas: la final no puede ser anterior a la inicial.",
    "amount-product": "Corrija el monto o sus factores para que el monto sea su producto.",
    "date-in-period": "Escriba una fecha del mes que se informa, o mueva la fila al archivo de su mes.",
    "date-after-period": "Escriba una fecha que no sea posterior al fin del mes que se informa.",
    "amount-sum": "Corrija el total o sus partes para que el total sea la suma.",
    "amounts-ordered": "Revise los montos: están en orden inverso.",
    "period-mismatch": "Escriba el período del mes que se informa, o quite la fila.",
    "period-evidence": "Envíe el archivo del mes que se informa.",
    "period-hint": "Corrija el nombre del archivo o el título para que digan el mes que se informa.",
    "cross-month-duplicate": "Quite la fila: ya se publicó en otro mes.",
    "empty-month": "Agregue las filas del mes o escriba «Sin movimientos en el período» en la primera fila de datos.",
    "empty-month-never": "Envíe el archivo con las filas del mes.",
    "declared-empty-with-rows": "Quite la declaración «Sin movimientos» o las filas, según corresponda.",
}


def fix_for(rule: str) -> str:
    """What to write instead, for a finding of type ``rule`` ('' when the message says it all)."""
    return FIXES.get(rule, "")
