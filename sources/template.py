"""Excel templates that directorates fill in: the schema's titles, instructions and validation.

The data sheet (named after the item) has the field titles as headers in a frozen first row;
Excel validates enumerations with a drop-down list (kept on a hidden sheet, since a list typed
into the rule is limited to 255 characters), dates, whole numbers and amounts >= 0 as typed.
An "Instrucciones" sheet explains each column. A template filled in as instructed goes through
``extract_file`` without a single coercion failure.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from transparencia.errors import InputError
from transparencia.schemas.catalog import Item
from transparencia.schemas.table import Field

ROWS = 5000  # rows covered by the validation rules
NO_MOVEMENT_FLAG = "«SIN MOVIMIENTOS EN EL PERÍODO»"  # what a directorate writes for an empty month
LISTS_SHEET = "Listas"
TYPE_LABELS = {
    "string": "Texto",
    "number": "Monto o número decimal (p. ej. 1250.00)",
    "integer": "Número entero",
    "date": "Fecha (dd/mm/aaaa)",
    "yearmonth": "Mes en formato AAAA-MM (p. ej. 2025-01), escrito como texto",
    "boolean": "Sí o No",
}
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")


def sheet_title(item: Item) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in item.name).strip()
    return cleaned[:31] or item.slug[:31]


def write_template(item: Item, path: str | Path) -> Path:
    """Write the Excel template of ``item`` to ``path`` (.xlsx)."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise InputError(f"La plantilla debe guardarse con extensión .xlsx, no '{path.suffix or '(sin extensión)'}'.")
    schema = item.table_schema()
    workbook = Workbook()
    data = workbook.active
    assert isinstance(data, Worksheet)  # a new workbook's only sheet
    data.title = sheet_title(item)
    lists = workbook.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    for column, f in enumerate(schema.fields, start=1):
        _header_cell(data, column, f)
        _validation(data, lists, column, f)
    data.freeze_panes = "A2"
    _instructions(workbook, item)
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


def _instructions(workbook: Workbook, item: Item) -> None:
    schema = item.table_schema()
    sheet = workbook.create_sheet("Instrucciones")
    sheet["A1"] = f"Plantilla: {item.name} (punto {item.code}, {item.legal_basis})"
    sheet["A1"].font = Font(bold=True, size=13)
    sheet["A2"] = (
        f"Llene una fila por registro en la hoja «{sheet_title(item)}», sin cambiar los encabezados. "
        "No agregue filas de totales ni notas debajo de los datos."
    )
    header = ["Columna", "Descripción", "Formato", "Obligatoria", "Valores permitidos", "Ejemplo"]
    for column, text in enumerate(header, start=1):
        cell = sheet.cell(row=4, column=column, value=text)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = HEADER_FILL
    for row, f in enumerate(schema.fields, start=5):
        values = [f.title, f.description, _format(f), "Sí" if f.required else "No",
                  ", ".join(f.enum) if f.enum else "", _example(f)]
        for column, text in enumerate(values, start=1):
            sheet.cell(row=row, column=column, value=text).alignment = Alignment(wrap_text=True, vertical="top")
    guidance_row = 5 + len(schema.fields) + 1
    sheet.cell(row=guidance_row, column=1, value="Cómo llenar la hoja").font = Font(bold=True)
    for row, text in enumerate(guidance(item), start=guidance_row + 1):
        sheet.cell(row=row, column=1, value=f"• {text}")
    for letter, width in zip("ABCDEF", (28, 60, 34, 12, 40, 24)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A5"


def _example(f: Field) -> str:
    """The schema's example as the officer types it: a date as dd/mm/aaaa, like its format says."""
    if f.type == "date" and f.example:
        try:
            return dt.date.fromisoformat(str(f.example)).strftime("%d/%m/%Y")
        except ValueError:
            return str(f.example)
    return f.example or ""


def guidance(item: Item) -> list[str]:
    """What the directorate should know about how its file is read (Spanish, one line each)."""
    schema = item.table_schema()
    if schema.empty_month == "never":
        empty = (f"{item.name}: nunca se entrega vacía. Un archivo sin filas de datos (solo encabezados o solo "
                 "un TOTAL) se rechaza.")
    else:
        empty = (f"Si en el período no hubo registros, escriba {NO_MOVEMENT_FLAG} en la primera celda de la fila 2 "
                 "y deje el resto vacío. Una hoja vacía, sin esa frase, no se acepta como mes sin movimientos.")
    return [
        empty,
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
