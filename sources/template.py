"""Excel templates that directorates fill in: the schema's titles, instructions and validation.

The data sheet (named after the item) has the field titles as headers in a frozen first row;
Excel validates enumerations with a drop-down list (kept on a hidden sheet, since a list typed
into the rule is limited to 255 characters), dates, whole numbers and amounts >= 0 as typed.
An "Instrucciones" sheet explains each column. A template filled in as instructed goes through
``extract_file`` without a single coercion failure.

Given a ``Delivery`` (``delivery_for``: the institution's configuration, the month and the
directorate), the template is one an officer can send: it names the institution, the directorate
and the month, the deadline (from the release schedule) and the file name to use (from the
source's pattern), and its data sheet is the one the configuration reads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from transparencia.domain import Deadline, Period
from transparencia.errors import ConfigError, InputError
from transparencia.schemas.catalog import Item
from transparencia.schemas.table import Field
from transparencia.sources.config import InstitutionConfig
from transparencia.sources.registry import FileItemOptions, FileSettings

ROWS = 5000  # rows covered by the validation rules
NO_MOVEMENT_FLAG = "«SIN MOVIMIENTOS EN EL PERÍODO»"  # what a directorate writes for an empty month
LISTS_SHEET = "Listas"
PERIOD_FIELD = "periodo"  # the month column: a run's period fills it when left empty
TYPE_LABELS = {
    "string": "Texto",
    "number": "Monto o número decimal (p. ej. 1250.00)",
    "integer": "Número entero",
    "date": "Fecha (dd/mm/aaaa)",
    "yearmonth": "Mes en formato AAAA-MM (p. ej. 2025-01), escrito como texto",
    "boolean": "Sí o No",
}
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")


@dataclass(frozen=True)
class Delivery:
    """Who fills a template, for which month, by when and under what name: what makes it sendable."""

    institution: str
    directorate: str
    period: Period
    deadline: Deadline
    file_name: str | None = None  # None when the directorate's data is read from a database
    sheet: str | None = None  # the sheet the configuration reads, when it names one
    companions: tuple[str, ...] = ()  # the other items the same file carries, each with its sheet


def delivery_for(config: InstitutionConfig, item: Item, period: Period, directorate: str | None = None) -> Delivery:
    """The delivery of ``item`` for ``period``: the directorate whose source feeds it (``directorate``,
    when given, must be that one; an item no source feeds belongs to ``directorate`` or the catalog's)."""
    source = next((s for s in config.sources if item.code in s.items), None)
    owner = source.directorate if source is not None else directorate or item.directorate
    if directorate is not None and directorate != owner:
        config.directorate(directorate)  # an unknown id is said as such
        raise ConfigError(f"El punto {item.code} ({item.name}) lo entrega {config.directorate_name(owner)} "
                          f"('{owner}'), no '{directorate}'.")
    base = Delivery(config.institution.name, config.directorate_name(owner), period, config.schedule.deadline(period))
    if source is None or not isinstance(source.settings, FileSettings):
        return base
    return Delivery(base.institution, base.directorate, period, base.deadline, source.settings.file_name(period),
                    _sheet(source.items[item.code]),
                    tuple(_companion(config.catalog.get(code), options)
                          for code, options in source.items.items() if code != item.code))


def _sheet(options: object) -> str | None:
    return options.sheet if isinstance(options, FileItemOptions) else None


def _companion(item: Item, options: object) -> str:
    sheet = _sheet(options)
    return f"{item.name} (hoja «{sheet}»)" if sheet else item.name


def sheet_title(item: Item, delivery: Delivery | None = None) -> str:
    """The data sheet's name: the one the configuration reads, else the item's name (Excel sheet
    names: at most 31 characters, none of []:*?/\\)."""
    if delivery is not None and delivery.sheet:
        return delivery.sheet[:31]
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in item.name).strip()
    return cleaned[:31] or item.slug[:31]


def write_template(item: Item, path: str | Path, delivery: Delivery | None = None) -> Path:
    """Write the Excel template of ``item`` to ``path`` (.xlsx), filled for ``delivery`` when given."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise InputError(f"La plantilla debe guardarse con extensión .xlsx, no '{path.suffix or '(sin extensión)'}'.")
    schema = item.table_schema()
    workbook = Workbook()
    data = workbook.active
    assert isinstance(data, Worksheet)  # a new workbook's only sheet
    data.title = sheet_title(item, delivery)
    lists = workbook.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    for column, f in enumerate(schema.fields, start=1):
        _header_cell(data, column, f)
        _validation(data, lists, column, f)
    data.freeze_panes = "A2"
    _instructions(workbook, item, delivery)
    workbook.move_sheet("Instrucciones", offset=-(len(workbook.sheetnames) - 1))
    workbook.active = workbook.sheetnames.index(data.title)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        workbook.save(path)
    except OSError as exc:
        raise InputError(f"No se puede escribir la plantilla en '{path}': {exc.strerror}.") from None
    return path


def _header_cell(sheet: Worksheet, column: int, f: Field) -> None:
    cell = sheet.cell(row=1, column=column, value=f.title)
    cell.font = Font(bold=True, color="FFFFFF")
    cell.fill = HEADER_FILL
    cell.alignment = Alignment(wrap_text=True, vertical="center")
    letter = get_column_letter(column)
    sheet.column_dimensions[letter].width = max(14, min(40, len(f.title) + 4))
    cells = f"{letter}2:{letter}{ROWS + 1}"
    if f.type == "date":
        for row in sheet[cells]:
            row[0].number_format = "DD/MM/YYYY"
    elif f.type in ("string", "yearmonth"):  # text, so "0801" and "2025-01" stay as typed
        for row in sheet[cells]:
            row[0].number_format = "@"
    elif f.type == "number":
        for row in sheet[cells]:
            row[0].number_format = "#,##0.00"


def _validation(sheet: Worksheet, lists: Worksheet, column: int, f: Field) -> None:
    letter = get_column_letter(column)
    target = f"{letter}2:{letter}{ROWS + 1}"
    rule = None
    if f.enum:
        list_column = get_column_letter(lists.max_column + 1 if lists.max_row > 1 or lists["A1"].value else 1)
        for row, value in enumerate(f.enum, start=1):
            lists[f"{list_column}{row}"] = value
        source = f"{quote_sheetname(LISTS_SHEET)}!${list_column}$1:${list_column}${len(f.enum)}"
        rule = DataValidation(type="list", formula1=source, allow_blank=not f.required)
        rule.error = f"Elija un valor de la lista para «{f.title}»."
    elif f.type == "date":
        rule = DataValidation(type="date", operator="between", formula1="DATE(1900,1,1)", formula2="DATE(2100,12,31)")
        rule.error = f"«{f.title}» debe ser una fecha (dd/mm/aaaa)."
    elif f.type in ("number", "integer"):
        minimum = f.minimum if f.minimum is not None else f.exclusive_minimum
        kind: Literal["whole", "decimal"] = "whole" if f.type == "integer" else "decimal"
        if minimum is not None:
            operator: Literal["greaterThan", "greaterThanOrEqual"] = (
                "greaterThan" if f.minimum is None else "greaterThanOrEqual"
            )
            rule = DataValidation(type=kind, operator=operator, formula1=str(minimum))
            rule.error = f"«{f.title}» debe ser un número {'mayor que' if f.minimum is None else 'mayor o igual a'} {minimum:g}."
        else:
            rule = DataValidation(type=kind, operator="between", formula1="-1E+15", formula2="1E+15")
            rule.error = f"«{f.title}» debe ser un número."
    if rule is None:
        return
    rule.errorTitle = "Valor no válido"
    rule.showErrorMessage = True
    rule.prompt = f.description
    rule.showInputMessage = bool(f.description)
    sheet.add_data_validation(rule)
    rule.add(target)


def _instructions(workbook: Workbook, item: Item, delivery: Delivery | None) -> None:
    schema = item.table_schema()
    sheet = workbook.create_sheet("Instrucciones")
    sheet["A1"] = f"Plantilla: {item.name} (punto {item.code}, {item.legal_basis})"
    sheet["A1"].font = Font(bold=True, size=13)
    lines = [*delivery_lines(delivery), (
        f"Llene una fila por registro en la hoja «{sheet_title(item, delivery)}», sin cambiar los encabezados. "
        "No agregue filas de totales ni notas debajo de los datos."
    )]
    for row, text in enumerate(lines, start=2):
        sheet.cell(row=row, column=1, value=text)
    top = len(lines) + 3
    header = ["Columna", "Descripción", "Formato", "Obligatoria", "Valores permitidos", "Ejemplo"]
    for column, text in enumerate(header, start=1):
        cell = sheet.cell(row=top, column=column, value=text)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
    for row, f in enumerate(schema.fields, start=top + 1):
        values = [f.title, f.description, _format(f), _required(f),
                  ", ".join(f.enum) if f.enum else "", _example(f)]
        for column, text in enumerate(values, start=1):
            sheet.cell(row=row, column=column, value=text).alignment = Alignment(wrap_text=True, vertical="top")
    guidance_row = top + 1 + len(schema.fields) + 1
    sheet.cell(row=guidance_row, column=1, value="Cómo llenar la hoja").font = Font(bold=True)
    for row, text in enumerate(guidance(item, delivery), start=guidance_row + 1):
        sheet.cell(row=row, column=1, value=f"• {text}")
    for letter, width in zip("ABCDEF", (28, 60, 34, 12, 40, 24)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = f"A{top + 1}"


def delivery_lines(delivery: Delivery | None) -> list[str]:
    """What the directorate must know to send the file: whose, which month, by when, under what name."""
    if delivery is None:
        return []
    lines = [f"Institución: {delivery.institution}", f"Dirección: {delivery.directorate}",
             f"Período: {delivery.period.label_es} ({delivery.period})",
             f"Plazo de entrega: {delivery.deadline.label_es}"]
    if delivery.file_name:
        sheet = f", hoja «{delivery.sheet}»" if delivery.sheet else ""
        lines.append(f"Nombre del archivo: {delivery.file_name}{sheet}")
    if delivery.companions:
        lines.append(f"El mismo archivo lleva también: {'; '.join(delivery.companions)}.")
    return lines


def _required(f: Field) -> str:
    if f.name == PERIOD_FIELD:
        return "No (vacía, se toma el mes de la entrega)"
    return "Sí" if f.required else "No"


def _example(f: Field) -> str:
    """The schema's example as the officer types it: a date as dd/mm/aaaa, like its format says."""
    if f.type == "date" and f.example:
        try:
            return dt.date.fromisoformat(str(f.example)).strftime("%d/%m/%Y")
        except ValueError:
            return str(f.example)
    return f.example or ""


def guidance(item: Item, delivery: Delivery | None = None) -> list[str]:
    """What the directorate should know about how its file is read (Spanish, one line each)."""
    schema = item.table_schema()
    period = _period_guidance(delivery) if PERIOD_FIELD in schema.field_names else []
    if schema.empty_month == "never":
        empty = (f"{item.name}: nunca se entrega vacía. Un archivo sin filas de datos (solo encabezados o solo "
                 "un TOTAL) se rechaza.")
    else:
        empty = (f"Si en el período no hubo registros, escriba {NO_MOVEMENT_FLAG} en la primera celda de la fila 2 "
                 "y deje el resto vacío. Una hoja vacía, sin esa frase, no se acepta como mes sin movimientos.")
    return [
        empty,
        *period,
        "Montos negativos: con signo menos delante (-150.00) o entre paréntesis ((150.00)); nunca con dos signos.",
        "Columnas obligatorias: escriba el dato; '—', '-', 'N/A', 's/d' o 'no aplica' en ellas son un error. En "
        "una columna opcional sin dato, deje la celda vacía.",
        "Escriba la unidad (y todo dato repetido) en cada fila: no combine celdas verticalmente.",
        "No repita la fila de encabezados, ni agregue una fila de numeración (1) (2) (3), subtotales o notas "
        "entre los datos: se descartan y se informan, pero hacen más difícil revisar el archivo.",
        "Una sola columna por dato: si dos columnas corresponden al mismo dato (p. ej. «Salario» y «Salario "
        "base»), el archivo se rechaza hasta que quede una.",
        "Cédulas con guiones comunes (8-123-4567): al pegar desde Word o un correo, revise que no queden guiones "
        "largos ni espacios.",
        "Fechas como fecha de Excel o dd/mm/aaaa (también se aceptan «15 de enero de 2025» y «15-ene-2025»).",
    ]


def _period_guidance(delivery: Delivery | None) -> list[str]:
    month = f"{delivery.period.label_es}, {delivery.period}" if delivery is not None else "el mes que se publica"
    return [f"Período: puede dejar la columna vacía; se toma el mes de la entrega ({month}). Si la llena, "
            "escriba ese mes (AAAA-MM): otro mes es un error."]


def _format(f: Field) -> str:
    text = TYPE_LABELS[f.type]
    if f.format == "cedula":
        text = "Cédula con guiones (p. ej. 8-123-4567, E-8-12345, PE-12-345)"
    limits = []
    if f.minimum is not None:
        limits.append(f"mínimo {f.minimum:g}")
    if f.exclusive_minimum is not None:
        limits.append(f"mayor que {f.exclusive_minimum:g}")
    return f"{text}; {', '.join(limits)}" if limits else text
