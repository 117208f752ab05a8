"""The demo institution's inputs for a month, made the way directorates really make them.

Rows are generated from each item's schema (so every item of the catalog gets data, including
items whose schema appears later): types, enums, patterns and the row rules (products, sums,
ordered amounts, date order and date-in-period) are honoured, then the frame is written as a
messy report: a banner with the institution and the update date, Spanish headers, dates as
dd/mm/aaaa, amounts as "B/. 1,250.00" in CSV, a total row and a footnote.

Deliberate problems, so the demo month shows every status of the compliance report:
  - viáticos: one row whose monto is not días × tarifa and one whose regreso is before salida
    (errors: the item is rejected);
  - ejecución presupuestaria (finanzas' SQLite database): one row with compromiso above asignado
    (a warning-level rule: published with warnings);
  - compras sends nothing this month (the contrataciones source is missing).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import itertools
import random
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from transparencia.domain import Period
from transparencia.domain.period import fill_placeholders
from transparencia.schemas.table import Field, TableSchema
from transparencia.sources.config import InstitutionConfig

FIRST_NAMES = ("María", "José", "Ana", "Luis", "Carmen", "Carlos", "Rosa", "Jorge", "Itzel", "Ricardo",
               "Yaribeth", "Eduardo", "Lourdes", "Abdiel", "Gisela", "Omar", "Marisol", "Rubén", "Anayansi",
               "Félix", "Yessenia", "Aristides", "Nilka", "Rogelio", "Dayra", "Julio", "Edith", "Iván")
LAST_NAMES = ("Rodríguez", "González", "Pérez", "Sánchez", "Castillo", "Moreno", "De León", "Herrera",
              "Batista", "Ríos", "Vásquez", "Quintero", "Samaniego", "Araúz", "Jaén", "Barría", "Núñez",
              "Pinzón", "Cedeño", "Domínguez", "Espinosa", "Guerra", "Him", "Chong")
UNITS = ("Dirección General", "Dirección de Recursos Humanos", "Dirección de Finanzas",
         "Dirección de Planificación", "Departamento de Compras", "Oficina de Información",
         "Sección de Pasaportes", "Departamento de Migración Fronteriza")
POSTS = ("Analista de Sistemas", "Asistente Administrativo", "Oficial de Migración", "Jefe de Sección",
         "Contador", "Abogado", "Secretaria Ejecutiva", "Conductor", "Inspector", "Director")
PLACES = ("San José, Costa Rica", "Bogotá, Colombia", "Ciudad de México, México", "David, Chiriquí",
          "Santiago, Veraguas", "Colón, Colón", "Chitré, Herrera", "Miami, Estados Unidos",
          "Las Tablas, Los Santos", "Bocas del Toro, Bocas del Toro")
_VOCABULARY = (
    (("apellido",), LAST_NAMES),
    (("nombre", "funcionario", "beneficiario", "solicitante"), FIRST_NAMES),
    (("unidad", "direccion", "dependencia"), UNITS),
    (("cargo", "puesto"), POSTS),
    (("destino", "lugar", "ubicacion"), PLACES),
)


# --------------------------------------------------------------------------- valid rows


def _text_value(field: Field, i: int, rng: random.Random, schema_fields: set[str]) -> str:
    if field.format == "cedula":
        return _cedula(i, rng)
    if field.pattern or field.format:
        return _vary_digits(field.example or "0", i) if field.example else str(i)
    name = field.name.lower()
    if name in ("nombre", "funcionario", "beneficiario", "nombre_funcionario"):
        return FIRST_NAMES[i % len(FIRST_NAMES)] if "apellido" in schema_fields else _full_name(i)
    if name.startswith("nombre_") or name.startswith("codigo"):
        return _vary_digits(field.example, i) if field.example and any(c.isdigit() for c in field.example) \
            else f"{field.example or field.title} {i + 1}"
    for keys, words in _VOCABULARY:
        if any(k in name for k in keys):
            return words[(i * 7 + len(name)) % len(words)]
    return f"{field.example or field.title} {i + 1}"


# Asiento numbers: 1000 + a permutation of 0..997999 (3571 is coprime with 998000).
_ASIENTOS, _ASIENTO_STEP = 998_000, 3571


def _cedula(i: int, rng: random.Random) -> str:
    """A cédula unique per row index: tomo and asiento are the index's two mixed-radix digits.

    Keys such as (periodo, cedula, cargo) must stay unique however many rows are generated.
    """
    tomo, rest = 100 + i % 900, i // 900
    asiento = 1000 + (rest % _ASIENTOS) * _ASIENTO_STEP % _ASIENTOS
    province = rng.choice(("8", "4", "3", "9", "PE", "E"))
    return f"{province}-{tomo + 900 * (rest // _ASIENTOS)}-{asiento}"


def _full_name(i: int) -> str:
    """First, middle and both surnames as the index's mixed-radix digits: unique per row index.

    Keys such as (periodo, nombre, fecha_salida, destino) need distinct people at any size; past
    the 451,584 combinations a numeric suffix keeps them apart.
    """
    first, rest = FIRST_NAMES[i % len(FIRST_NAMES)], i // len(FIRST_NAMES)
    paternal, rest = LAST_NAMES[rest % len(LAST_NAMES)], rest // len(LAST_NAMES)
    maternal, rest = LAST_NAMES[rest % len(LAST_NAMES)], rest // len(LAST_NAMES)
    middle, rest = FIRST_NAMES[rest % len(FIRST_NAMES)], rest // len(FIRST_NAMES)
    name = f"{first} {paternal} {maternal}" if i < len(FIRST_NAMES) * len(LAST_NAMES) ** 2 \
        else f"{first} {middle} {paternal} {maternal}"
    return name if rest == 0 else f"{name} {rest + 1}"


def _vary_digits(example: str, i: int) -> str:
    digits = iter(str(i + 1).zfill(sum(c.isdigit() for c in example))[-sum(c.isdigit() for c in example):])
    return re.sub(r"\d", lambda _m: next(digits), example)


def _value(field: Field, i: int, period: Period, rng: random.Random, schema_fields: set[str]) -> Any:
    start, end = period.start, period.last_day
    if field.type == "yearmonth":
        return str(period)
    if field.type == "date":
        return start + dt.timedelta(days=rng.randrange((end - start).days + 1))
    if field.type == "integer":
        low = int(field.minimum or 0)
        return rng.randint(max(low, 1), max(low, 1) + 9)
    if field.type == "number":
        if field.maximum is not None or "porcentaje" in field.name:
            return round(rng.uniform(max(field.minimum or 0, 1), min(field.maximum or 100, 99)), 2)
        if "tarifa" in field.name:
            return float(rng.choice((30, 40, 60, 80, 150, 200, 300)))
        return round(rng.uniform(150, 4500), 2)
    if field.type == "boolean":
        return rng.random() < 0.5
    if field.enum:
        return field.enum[rng.randrange(len(field.enum))]
    return _text_value(field, i, rng, schema_fields)


def _apply_rules(row: dict[str, Any], schema: TableSchema, period: Period, rng: random.Random) -> None:
    """Make a generated row satisfy the schema's row rules (ordered amounts settle over a few passes)."""
    start, end = period.start, period.last_day
    for _ in range(3):
        for rule in schema.rules:
            p = rule.params
            if rule.check == "amounts_ordered":
                fields = list(p["fields"])
                for lower, upper in reversed(list(itertools.pairwise(fields))):
                    if row.get(lower) is not None and row.get(upper) is not None and row[lower] > row[upper]:
                        row[lower] = round(row[upper] * rng.uniform(0.6, 1.0), 2)
    for rule in schema.rules:
        p = rule.params
        if rule.check == "date_in_period":
            if p.get("relation") == "not_after_end":
                row[p["field"]] = start - dt.timedelta(days=rng.randrange(30, 3000))
            else:
                row[p["field"]] = start + dt.timedelta(days=rng.randrange((end - start).days - 4))
    for rule in schema.rules:
        p = rule.params
        if rule.check == "date_order":
            row[p["end"]] = row[p["start"]] + dt.timedelta(days=rng.randrange(0, 5))
            if "dias" in row:  # days paid follow the dates, as in a real viáticos form
                row["dias"] = (row[p["end"]] - row[p["start"]]).days + 1
        elif rule.check == "amount_product":
            a, b = p["factors"]
            row[p["total"]] = round(row[a] * row[b], 2)
        elif rule.check == "amount_sum":
            row[p["total"]] = round(sum(row[part] or 0 for part in p["parts"]), 2)


def sample_frame(schema: TableSchema, period: Period, rows: int, seed: int = 0, start: int = 0) -> pd.DataFrame:
    """``rows`` valid rows of an item for a month, in schema order, with Python values; rows are
    numbered from ``start`` (the row number makes cédulas and names unique)."""
    rng = random.Random(f"{schema.name}-{period}-{seed}")
    records = []
    names = set(schema.field_names)
    for i in range(start, start + rows):
        row = {f.name: _value(f, i, period, rng, names) for f in schema.fields}
        _apply_rules(row, schema, period, rng)
        records.append(row)
    return pd.DataFrame.from_records(records, columns=schema.field_names)


# --------------------------------------------------------------------------- people from month to month

# People's lasting facts (start date, base salary) are drawn as of this month, before any demo month.
_PEOPLE_ANCHOR = Period(2016, 1)
# Each month the roster slides by this many people: as many bajas (the oldest) as altas (new people).
_TURNOVER = 2
# A person gets a 5 % raise each time (row number + month number) crosses a multiple of this,
# and moves to the next cargo each time it crosses a multiple of the other: a few changes a month.
_RAISE_EVERY, _MOVE_EVERY = 13, 29
_PERSON_SPREAD = 901


def _month_number(period: Period) -> int:
    return period.year * 12 + period.month - 1


def is_roster(schema: TableSchema) -> bool:
    """A list of the people on staff (a cédula in the key, dates not tied to the month): it carries
    over from one month to the next, with a few altas, bajas and changes."""
    within = any(r.check == "date_in_period" and r.params.get("relation") == "within" for r in schema.rules)
    return schema.identity_field is not None and not within


def roster_frame(schema: TableSchema, period: Period, rows: int, seed: int = 0) -> pd.DataFrame:
    """The staff in ``period``: people numbered m*2 to m*2+rows (m = month number), so the next
    month loses the first two (bajas) and gains two (altas); each person's facts are drawn once
    and only salary and cargo move, on a schedule, so consecutive months differ by a few changes."""
    month = _month_number(period)
    names = set(schema.field_names)
    records = []
    for i in range(_TURNOVER * month, _TURNOVER * month + rows):
        rng = random.Random(f"{schema.name}-{seed}-{i}")
        # 901 is coprime with the cédula's 900 tomos: unique cédulas whose asientos differ too.
        row = {f.name: _value(f, _PERSON_SPREAD * i, _PEOPLE_ANCHOR, rng, names) for f in schema.fields}
        _apply_rules(row, schema, _PEOPLE_ANCHOR, rng)
        row["periodo"] = str(period)
        first_month = (i - rows) // _TURNOVER + 1
        raises = (i + month) // _RAISE_EVERY - (i + first_month) // _RAISE_EVERY
        for name in ("salario_mensual", "gasto_representacion"):
            if row.get(name):
                row[name] = round(row[name] * (1 + 0.05 * raises), 2)
        if "cargo" in row:
            moves = (i + month) // _MOVE_EVERY - (i + first_month) // _MOVE_EVERY
            row["cargo"] = POSTS[(POSTS.index(row["cargo"]) + moves) % len(POSTS)] if row["cargo"] in POSTS \
                else row["cargo"]
        records.append(row)
    return pd.DataFrame.from_records(records, columns=schema.field_names)


def month_frame(schema: TableSchema, period: Period, rows: int, seed: int = 0) -> pd.DataFrame:
    """An item's demo rows for a month: a roster carries over; other items are the month's own
    entries (a person hired this month, a trip, a payment), numbered apart from other months'."""
    if is_roster(schema):
        return roster_frame(schema, period, rows, seed)
    start = rows * (_month_number(period) % 1000) if schema.identity_field is not None else 0
    return sample_frame(schema, period, rows, seed, start=start)


# --------------------------------------------------------------------------- deliberate problems


def break_rule(frame: pd.DataFrame, schema: TableSchema, check: str, severity: str, row: int) -> bool:
    """Make one row break the first rule of this kind and severity; False when the schema has none."""
    for rule in schema.rules:
        if rule.check != check or rule.severity != severity:
            continue
        p = rule.params
        label = frame.index[row % len(frame)]
        if check == "amount_product":
            frame.loc[label, p["total"]] = round(frame.loc[label, p["total"]] + 125.5, 2)
        elif check == "date_order":
            frame.loc[label, p["end"]] = frame.loc[label, p["start"]] - dt.timedelta(days=2)
        elif check == "amounts_ordered":
            lower, upper = p["fields"][0], p["fields"][1]
            frame.loc[label, lower] = round(frame.loc[label, upper] * 1.25 + 10, 2)
        elif check == "date_in_period":
            first_day = Period.parse(str(frame.loc[label, "periodo"])).start  # the row's own month, as written
            frame.loc[label, p["field"]] = first_day - dt.timedelta(days=3)
        return True
    return False


# --------------------------------------------------------------------------- messy writers


def _spanish_date(value: object) -> object:
    return value.strftime("%d/%m/%Y") if isinstance(value, (dt.date, pd.Timestamp)) else value


def _spanish_amount(value: object) -> object:
    return f"B/. {value:,.2f}" if isinstance(value, float) else value


@dataclass(frozen=True)
class Banner:
    institution: str
    title: str
    period: Period
    updated: dt.date
    directorate: str

    def lines(self) -> list[str]:
        month = self.period
        return [
            self.institution.upper(),
            f"{self.title} - {month.month_name.capitalize()} {month.year}",
            f"Fecha de actualización: {self.updated.strftime('%d/%m/%Y')}",
        ]


def _headers(schema: TableSchema) -> list[str]:
    return [f.title for f in schema.fields]


def write_xlsx(sheets: list[tuple[str, TableSchema, pd.DataFrame]], path: Path, banner: Banner) -> Path:
    """A workbook as a directorate makes it: per sheet a banner, blank row, headers, data, total, footnote."""
    from openpyxl import Workbook

    path.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook(write_only=True)
    for sheet_name, schema, frame in sheets:
        sheet = book.create_sheet(sheet_name[:31])
        for line in dataclasses.replace(banner, title=schema.title).lines():
            sheet.append([line])
        sheet.append([])
        sheet.append(_headers(schema))
        numbers = [f.name for f in schema.fields if f.type == "number"]
        for record in frame.itertuples(index=False):
            sheet.append([None if not isinstance(v, (str, dt.date)) and pd.isna(v) else v for v in record])
        sheet.append(["TOTAL"] + [round(float(frame[c].sum()), 2) if c in numbers else None
                                  for c in frame.columns[1:]])
        sheet.append([])
        sheet.append([f"Fuente: {banner.directorate}"])
    book.save(path)
    return path


def write_csv(frame: pd.DataFrame, schema: TableSchema, path: Path, banner: Banner) -> Path:
    """A CSV export with ';', Spanish dates and amounts with the balboa sign, banner and total."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        for line in banner.lines():
            writer.writerow([line])
        writer.writerow([])
        writer.writerow(_headers(schema))
        for record in frame.itertuples(index=False):
            writer.writerow(["" if v is None or (not isinstance(v, str) and pd.isna(v))
                             else _spanish_amount(_spanish_date(v)) for v in record])
        numbers = [f.name for f in schema.fields if f.type == "number"]
        writer.writerow(["TOTAL"] + [_spanish_amount(round(float(frame[c].sum()), 2)) if c in numbers else ""
                                     for c in frame.columns[1:]])
    return path


def write_sqlite(frame: pd.DataFrame, path: Path, table: str, period: Period) -> Path:
    """Finanzas' accounting database: one table for all months, a cut-off date per row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out = frame.drop(columns=["periodo"]).rename(columns={"subprograma": "subprograma", "fuente_financiamiento": "fuente",
                                                         "descripcion_objeto": "descripcion"})
    out["fecha_corte"] = period.last_day.isoformat()
    with sqlite3.connect(path) as connection:
        exists = connection.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,)).fetchone()
        if exists:
            connection.execute(f'DELETE FROM "{table}" WHERE substr(fecha_corte, 1, 7) = ?', (str(period),))
        out.to_sql(table, connection, if_exists="append", index=False)
    return path


# --------------------------------------------------------------------------- the demo month

# Rows per item in the demo month (a small institution); the benchmark scales these up.
DEMO_ROWS = 40
DB_TABLE = "ejecucion_presupuestaria"
MISSING_SOURCE = "compras-panamacompra"  # compras sends nothing this month


def _broken(code: str, schema: TableSchema, frame: pd.DataFrame) -> pd.DataFrame:
    """The demo's deliberate problems (see the module docstring)."""
    if code == "11.6":
        break_rule(frame, schema, "amount_product", "error", 3)
        break_rule(frame, schema, "date_order", "error", 7)
    elif code == "10.2":
        break_rule(frame, schema, "amounts_ordered", "warning", 2)
    return frame


def write_month(config: InstitutionConfig, period: Period, *, rows: int = DEMO_ROWS, missing: tuple[str, ...] = (MISSING_SOURCE,),
                errors: bool = True, updated: dt.date | None = None) -> list[Path]:
    """Write every configured source's input for ``period`` where the configuration expects it.

    File sources get a workbook (one sheet per item, named as configured) or a CSV; the database
    source gets its table in SQLite. Sources in ``missing`` are left out (and any earlier file
    of theirs for the period removed), so the month has a missing source.
    """

    written = []
    updated = updated or period.last_day + dt.timedelta(days=3)
    for source in config.sources:
        entries = []
        for code, options in source.items.items():
            item = config.catalog.get(code)
            schema = item.table_schema()
            frame = month_frame(schema, period, rows, seed=len(code))
            entries.append((code, item, schema, _broken(code, schema, frame) if errors else frame, options))
        banner = Banner(config.institution.name, "", period, updated, source.directorate_name)
        if source.type == "database":
            url = source.settings.url or ""
            if not url.startswith("sqlite:///"):
                continue
            target = Path(url.removeprefix("sqlite:///"))
            target = target if target.is_absolute() else config.base_dir / target
            for _code, _item, _schema, frame, _options in entries:
                written.append(write_sqlite(frame, target, DB_TABLE, period))
            continue
        pattern = fill_placeholders(source.settings.path, period, source.where)
        target = config.inbox / pattern.replace("*", "")
        for stale in target.parent.glob(Path(pattern).name) if target.parent.is_dir() else ():
            stale.unlink()
        if source.id in missing:
            continue
        if target.suffix.lower() == ".csv":
            _code, _item, schema, frame, _options = entries[0]
            written.append(write_csv(frame, schema, target, dataclasses.replace(banner, title=schema.title)))
        else:
            sheets = [(getattr(options, "sheet", None) or item.name, schema, frame)
                      for _code, item, schema, frame, options in entries]
            written.append(write_xlsx(sheets, target, banner))
    return written
