"""What changed in an item from one published month to the one before: the journalist's first question.

Population items (the table schema says ``lists: population``: planilla, gastos de
representación) list everyone each month, so they are matched person by person on the
*unmasked* cédula: altas, bajas and changes of salary, cargo, condición or unidad are exact; only
then are personal-data rules applied to what is shown. Names are shown where the law publishes
them, so a masked cédula is never the only way to tell two people apart. Every other item lists
the month's events or entries (hires, designations, trips, payments): last month's rows did not
"leave", so it gets its totals and counts against the month before and its largest new entries.

The summary is a pure function of the two months (no clock), so an unchanged month renders the
same bytes and publishers write nothing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Hashable, Mapping, Set
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import pandas as pd

from transparencia.domain import Period
from transparencia.output.charts import figure
from transparencia.output.csvfile import write_csv
from transparencia.publishers.privacy import mask_column, mask_value
from transparencia.schemas.table import Field, TableSchema

# Fields whose change, for the same person, is news (from → to), in the order they are listed.
TRACKED_FIELDS = ("salario_mensual", "gasto_representacion", "cargo", "cargo_designacion", "cargo_permanente",
                  "condicion", "unidad_administrativa")
UNIT_FIELD = "unidad_administrativa"
NO_UNIT = "(sin unidad indicada)"
LARGEST_NEW = 5
CSV_COLUMNS = ("tipo_cambio", "descripcion", "cedula", "unidad_administrativa", "cargo", "campo", "antes",
               "despues", "diferencia")
CSV_TITLES = {
    "tipo_cambio": ("Tipo de cambio", "alta, baja, cambio, unidad, total, nuevo o sin_comparacion."),
    "descripcion": ("Descripción", "La persona (nombre publicado por ley), la unidad o el registro nuevo."),
    "cedula": ("Cédula", "Cédula tal como se publica (enmascarada si la política lo indica)."),
    "unidad_administrativa": ("Unidad administrativa", "Unidad de la persona en el mes más reciente que la tiene."),
    "cargo": ("Cargo", "Cargo de la persona en el mes más reciente que lo tiene."),
    "campo": ("Campo", "Qué cambió o qué se cuenta."),
    "antes": ("Antes", "Valor en el mes anterior."),
    "despues": ("Después", "Valor en este mes."),
    "diferencia": ("Diferencia", "Después menos antes, para valores numéricos."),
}
ROWS_LABEL = "Filas"
PEOPLE_LABEL = "Personas"


@dataclass(frozen=True)
class Total:
    """One total of the month (a row count or an amount), against the month before when there is one."""

    field: str
    title: str
    current: float
    previous: float | None = None
    counted: bool = False  # a count of rows or people; otherwise an amount of money

    def shown(self, value: float | None) -> str:
        """The value as a sentence writes it: a count bare (40), an amount with its cents (14,060.00)."""
        return figure(value, self.counted)

    @property
    def difference(self) -> float | None:
        return None if self.previous is None else round(self.current - self.previous, 2)


@dataclass(frozen=True)
class Change:
    """One line of the summary: an alta, a baja, a changed field, a unit's headcount, a new large entry."""

    kind: str  # alta | baja | cambio | unidad | nuevo
    description: str
    field: str = ""
    before: Any = None
    after: Any = None
    cedula: str = ""
    unit: str = ""
    post: str = ""
    counted: bool = False  # before and after count people (a unit's headcount); otherwise amounts or text

    @property
    def difference(self) -> float | None:
        if _is_number(self.before) and _is_number(self.after):
            return round(float(self.after) - float(self.before), 2)
        return None


@dataclass
class ChangeSummary:
    item: str
    period: Period
    previous: Period | None  # the latest earlier published month; None for an item's first month
    population: bool  # the item lists everyone each month (altas and bajas), not the month's events
    totals: list[Total]
    lines: list[Change] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for line in self.lines if line.kind == kind)

    @property
    def headline(self) -> str:
        """One Spanish sentence for the report and the dataset description."""
        if self.previous is None:
            return "Primer mes publicado: no hay un mes anterior con qué comparar."
        parts = []
        if self.population:
            parts.append(f"{_plural(self.count('alta'), 'alta', 'altas')}, {_plural(self.count('baja'), 'baja', 'bajas')}")
            changed: dict[str, int] = {}
            for line in self.lines:
                if line.kind == "cambio":
                    changed[line.field] = changed.get(line.field, 0) + 1
            parts += [f"{n} cambio{'s' if n != 1 else ''} de {_lower_first(name)}" for name, n in changed.items()]
        else:
            parts.append(_plural(self.count("nuevo"), "registro nuevo destacado", "registros nuevos destacados"))
        for total in self.totals:
            parts.append(f"{_lower_first(total.title)}: {total.shown(total.previous)} → {total.shown(total.current)}")
        return f"Respecto a {self.previous}: " + "; ".join(parts) + "."

    def totals_text(self) -> str:
        """The month's totals in one Spanish sentence (the dataset description states them)."""
        return f"{self.period}: " + "; ".join(f"{_lower_first(t.title)} {t.shown(t.current)}" for t in self.totals) + "."

    def to_dict(self) -> dict[str, Any]:
        return {
            "item": self.item, "period": str(self.period),
            "previous_period": None if self.previous is None else str(self.previous),
            "kind": "poblacion" if self.population else "eventos", "headline": self.headline,
            "totals": [{**asdict(t), "difference": t.difference} for t in self.totals],
            "changes": [{**asdict(c), "difference": c.difference} for c in self.lines],
        }

    def csv_rows(self) -> list[list[Any]]:
        if self.previous is None:
            return [["sin_comparacion", self.headline, "", "", "", "", "", "", ""]]
        rows = [["total", "Total del mes", "", "", "", t.title, _cell(t.previous), _cell(t.current),
                 _cell(t.difference)] for t in self.totals]
        rows += [[c.kind, c.description, c.cedula, c.unit, c.post, c.field, _cell(c.before), _cell(c.after),
                  _cell(c.difference)] for c in self.lines]
        return rows


def summarise(schema: TableSchema, history: pd.DataFrame, month: Period, rules: Mapping[str, str],
              item: str = "", online: Set[Period] | None = None) -> ChangeSummary:
    """Compare ``month`` with the latest earlier month in ``history`` (unmasked frames, all months)
    that is ``online`` (the months the target holds), when those are given: a month withdrawn from
    the target is no longer the one before."""
    period = str(month)  # as the ``periodo`` column and the summary's JSON write it
    periods = history["periodo"].astype("string") if len(history) else pd.Series([], dtype="string")
    current = history[periods == period]
    shown = None if online is None else {str(p) for p in online}
    earlier = sorted(p for p in periods.dropna().unique() if p < period and (shown is None or p in shown))
    previous_period = earlier[-1] if earlier else None
    previous = history[periods == previous_period] if previous_period else None
    identity = schema.identity_field
    if identity is not None:
        current, previous = _identified(schema, rules, current, previous)
    amounts = amount_fields(schema, rules)
    summary = ChangeSummary(item, month, Period.parse(previous_period) if previous_period else None,
                            schema.population, _totals(current, previous, amounts, identity))
    if previous is None:
        return summary
    if identity is not None and schema.population:
        summary.lines = _people_changes(schema, identity, current, previous, rules, amounts)
    else:
        summary.lines = _largest_new(schema, current, previous, rules, amounts)
    return summary


def amount_fields(schema: TableSchema, rules: Mapping[str, str]) -> list[Field]:
    """The amounts worth a total: published numbers that are not a rate, a percentage or a part of a sum."""
    parts = set()
    for rule in schema.rules:
        parts.update(rule.params.get("parts", ()))
        parts.update(f for f in rule.params.get("factors", ()) if f != rule.params.get("total"))
    return [f for f in schema.fields
            if f.type == "number" and rules.get(f.name) == "publish" and f.name not in parts
            and f.maximum is None and not f.name.startswith(("porcentaje", "tarifa", "avance"))]


def total_title(field: Field) -> str:
    """"Total de Salario mensual (B/.)"; a field whose title already says it is a total keeps it
    ("Total del viaje (B/.)", never "Total de Total del viaje")."""
    return field.title if field.title.lower().startswith("total") else f"Total de {field.title}"


def _totals(current: pd.DataFrame, previous: pd.DataFrame | None, amounts: list[Field],
            identity: Field | None) -> list[Total]:
    """People items count distinct people (one may hold two posts); other items count rows."""
    def count(frame: pd.DataFrame) -> int:
        return int(frame[_WHO].nunique()) if identity is not None else len(frame)

    label = PEOPLE_LABEL if identity is not None else ROWS_LABEL
    totals = [Total("filas", label, count(current), None if previous is None else count(previous), counted=True)]
    for f in amounts:
        totals.append(Total(f.name, total_title(f), _sum(current[f.name]),
                            None if previous is None else _sum(previous[f.name])))
    return totals


def _sum(column: pd.Series) -> float:
    return round(float(pd.to_numeric(column, errors="coerce").sum()), 2)


# --------------------------------------------------------------------------- people


_KEY, _ID = "_clave", "_persona"
_BEFORE = "_antes"
_WHO = "_quien"  # who a row is (``person_keys``): the column people are counted and matched by
_SEP = "\x1f"
NAME_FIELDS = ("nombre", "apellido")


def _name_fields(schema: TableSchema, rules: Mapping[str, str]) -> list[str]:
    """The name columns the law publishes: how a person is told apart when the cédula is not."""
    return [n for n in NAME_FIELDS if n in schema.field_names and rules.get(n) == "publish"]


def _published_rows(values: pd.Series, field: Field, rules: Mapping[str, str]) -> pd.Series:
    """Rows whose ``field`` is in its published form: a month read back from the portal (masked
    values mask to themselves; an omitted column is empty)."""
    treatment = rules.get(field.name)
    if treatment == "publish":
        return pd.Series(False, index=values.index)
    if treatment == "mask":
        return values.notna() & (mask_column(values, field) == values)
    return values.isna()


def person_keys(frame: pd.DataFrame, schema: TableSchema, rules: Mapping[str, str]) -> pd.Series:
    """Who each row is: the unmasked cédula, or, in a month read back from the portal (cédula masked
    or omitted), the cédula as published with the published name, since masked cédulas collide."""
    identity = schema.identity_field
    assert identity is not None
    ids = frame[identity.name].astype("string")
    public = _published_rows(frame[identity.name], identity, rules)
    if not public.any():
        return ids
    joined = ids.fillna("")
    for name in _name_fields(schema, rules):
        joined = joined.str.cat(frame[name].astype("string").fillna(""), sep=_SEP)
    return ids.where(~public, joined)


def _public_form(frame: pd.DataFrame, schema: TableSchema, rules: Mapping[str, str]) -> pd.DataFrame:
    """``frame`` with every masked column masked and every unpublished one empty, columns kept."""
    changed = {}
    for name in frame.columns.intersection(schema.field_names):
        treatment = rules.get(name)
        if treatment == "mask":
            changed[name] = mask_column(frame[name], schema.field(name))
        elif treatment not in (None, "publish"):
            changed[name] = pd.Series(None, index=frame.index, dtype=object)
    return frame.assign(**changed)


def _identified(schema: TableSchema, rules: Mapping[str, str], current: pd.DataFrame,
                previous: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Both months with who each row is (``_WHO``). Two months as validated compare by the unmasked
    cédula; when either was read back from the portal, both compare as published (``person_keys``)."""
    identity = schema.identity_field
    assert identity is not None
    frames = [f for f in (current, previous) if f is not None]
    if any(_published_rows(f[identity.name], identity, rules).any() for f in frames):
        current = _public_form(current, schema, rules)
        previous = None if previous is None else _public_form(previous, schema, rules)
    current = current.assign(**{_WHO: person_keys(current, schema, rules)})
    if previous is not None:
        previous = previous.assign(**{_WHO: person_keys(previous, schema, rules)})
    return current, previous


def _matching_key(schema: TableSchema) -> list[str]:
    """The columns a row is matched by across months: the primary key but the month, with who the
    person is in place of the cédula."""
    identity = schema.identity_field
    return [_WHO if identity is not None and n == identity.name else n for n in schema.primary_key if n != "periodo"]


def _coded(current: pd.DataFrame, previous: pd.DataFrame, columns: list[str],
           name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both months with an integer column ``name`` coding ``columns`` together (equal values, equal
    code), so matching months is integer work, not text comparisons."""
    text = pd.concat([current[columns], previous[columns]], ignore_index=True).astype("string").fillna("")
    joined = text[columns[0]].str.cat(text[columns[1:]], sep="\x1f") if columns else \
        pd.Series("", index=text.index)
    codes, _ = pd.factorize(joined)
    return current.assign(**{name: codes[:len(current)]}), previous.assign(**{name: codes[len(current):]})


def _pairs(schema: TableSchema, current: pd.DataFrame, previous: pd.DataFrame):
    """Same person in both months: first on the whole key (cédula and cargo), then on the cédula
    alone when it is left once on each side (a person whose cargo changed). Returns the pairs (this
    month's columns, last month's with the ``_antes`` suffix), the altas and the bajas."""
    now, before = _coded(current, previous, _matching_key(schema), _KEY)
    now, before = _coded(now, before, [_WHO], _ID)
    matched = now.merge(before, on=_KEY, suffixes=("", _BEFORE), sort=True)
    new, gone = now[~now[_KEY].isin(before[_KEY])], before[~before[_KEY].isin(now[_KEY])]
    once_new = new[~new[_ID].duplicated(keep=False)]
    once_gone = gone[~gone[_ID].duplicated(keep=False)]
    moved = once_new.merge(once_gone, on=_ID, suffixes=("", _BEFORE), sort=True)
    pairs = pd.concat([matched, moved], ignore_index=True)
    altas = new[~new[_ID].isin(moved[_ID])]
    bajas = gone[~gone[_ID].isin(moved[_ID])]
    return pairs, altas, bajas


def _differs(before: pd.Series, after: pd.Series) -> pd.Series:
    both_missing = before.isna() & after.isna()
    equal = (before.astype(object) == after.astype(object)) | both_missing
    return ~equal


def _people_changes(schema: TableSchema, identity: Field, current: pd.DataFrame, previous: pd.DataFrame,
                    rules: Mapping[str, str], amounts: list[Field]) -> list[Change]:
    pairs, altas, bajas = _pairs(schema, current, previous)
    person = _PersonView(schema, identity, rules)
    salary = amounts[0] if amounts else None
    lines = [person.change("alta", r, salary, after=True) for r in altas.to_dict("records")]
    lines += [person.change("baja", r, salary, after=False) for r in bajas.to_dict("records")]
    tracked = [schema.field(n) for n in TRACKED_FIELDS
               if n in schema.field_names and rules.get(n) == "publish"]
    for f in tracked:
        changed = pairs[_differs(pairs[f.name + _BEFORE], pairs[f.name])]
        for row in changed.to_dict("records"):
            lines.append(Change("cambio", person.label(row), f.title, _plain(row[f.name + _BEFORE]),
                                _plain(row[f.name]), **person.context(row)))
    lines.sort(key=lambda c: (_KIND_ORDER[c.kind], c.unit, c.description, c.field, c.cedula))
    return lines + _unit_lines(schema, identity, current, previous, salary, rules)


_KIND_ORDER = {"alta": 0, "baja": 1, "cambio": 2}


class _Context(TypedDict):
    """Where a person stands, as published: a change line's cédula, unidad and cargo."""

    cedula: str
    unit: str
    post: str


class _PersonView:
    """How a person is shown: the published name, the cédula as published, cargo and unidad."""

    def __init__(self, schema: TableSchema, identity: Field, rules: Mapping[str, str]):
        self.schema, self.identity, self.rules = schema, identity, rules
        self.names = [n for n in ("nombre", "apellido") if n in schema.field_names and rules.get(n) == "publish"]
        self.post = next((n for n in ("cargo", "cargo_designacion") if n in schema.field_names
                          and rules.get(n) == "publish"), None)

    def cedula(self, row: Mapping[Hashable, Any]) -> str:
        treatment = self.rules.get(self.identity.name)
        if treatment == "publish":
            return str(row[self.identity.name])
        if treatment == "mask":
            return str(mask_value(row[self.identity.name], self.identity))
        return ""

    def label(self, row: Mapping[Hashable, Any]) -> str:
        name = " ".join(str(row[n]) for n in self.names if _plain(row[n]) is not None)
        return name or self.cedula(row) or "(persona sin nombre publicado)"

    def context(self, row: Mapping[Hashable, Any]) -> _Context:
        unit = row.get(UNIT_FIELD) if self.rules.get(UNIT_FIELD) == "publish" else None
        post = row.get(self.post) if self.post else None
        return {"cedula": self.cedula(row), "unit": str(_plain(unit) or ""), "post": str(_plain(post) or "")}

    def change(self, kind: str, row: Mapping[Hashable, Any], salary: Field | None, after: bool) -> Change:
        amount = _plain(row[salary.name]) if salary else None
        return Change(kind, self.label(row), salary.title if salary else "",
                      None if after else amount, amount if after else None, **self.context(row))


def _unit_lines(schema: TableSchema, identity: Field, current: pd.DataFrame, previous: pd.DataFrame,
                salary: Field | None, rules: Mapping[str, str]) -> list[Change]:
    """Headcount (distinct people) and salary total by unidad administrativa, against the month before."""
    if UNIT_FIELD not in schema.field_names or rules.get(UNIT_FIELD) != "publish":
        return []
    now, before = _by_unit(current, identity, salary), _by_unit(previous, identity, salary)
    lines = []
    for unit in sorted(now.keys() | before.keys()):
        (people_now, pay_now), (people_before, pay_before) = now.get(unit, (0, 0.0)), before.get(unit, (0, 0.0))
        lines.append(Change("unidad", unit, PEOPLE_LABEL, people_before, people_now, unit=unit, counted=True))
        if salary is not None:
            lines.append(Change("unidad", unit, total_title(salary), pay_before, pay_now, unit=unit))
    return lines


def _by_unit(frame: pd.DataFrame, identity: Field, salary: Field | None) -> dict[str, tuple[int, float]]:
    units = frame[UNIT_FIELD].astype("string").fillna(NO_UNIT)
    grouped = frame.groupby(units, sort=True)
    people = grouped[_WHO].nunique()
    pay = grouped[salary.name].sum() if salary is not None else None
    return {str(u): (int(people[u]), round(float(pay[u]), 2) if pay is not None else 0.0) for u in people.index}


# --------------------------------------------------------------------------- amounts


def _largest_new(schema: TableSchema, current: pd.DataFrame, previous: pd.DataFrame,
                 rules: Mapping[str, str], amounts: list[Field]) -> list[Change]:
    """The largest entries whose key was not in the month before, by the item's first amount."""
    if not amounts:
        return []
    amount = amounts[0]
    key = [n for n in schema.primary_key if n != "periodo"]
    now, before = _coded(current, previous, _matching_key(schema) if schema.identity_field else key, _KEY)
    fresh = now[~now[_KEY].isin(before[_KEY])] if key else now
    fresh = fresh.assign(_monto=pd.to_numeric(fresh[amount.name], errors="coerce"))
    largest = fresh.sort_values(["_monto", _KEY], ascending=[False, True], na_position="last", kind="stable")
    identity = schema.identity_field
    if identity is not None:  # a new hire or designation: shown as a person, as the law publishes them
        person = _PersonView(schema, identity, rules)
        return [Change("nuevo", person.label(r), amount.title, None, _plain(r[amount.name]), **person.context(r))
                for r in largest.head(LARGEST_NEW).to_dict("records")]
    return [Change("nuevo", _entry_label(schema, r, key, rules), amount.title, None, _plain(r[amount.name]))
            for r in largest.head(LARGEST_NEW).to_dict("records")]


def _entry_label(schema: TableSchema, row: Mapping[Hashable, Any], key: list[str], rules: Mapping[str, str]) -> str:
    """The entry's key and first descriptive text, each as published (masked, or left out)."""
    names = list(key)
    described = next((f.name for f in schema.fields if f.type == "string" and f.name not in key
                      and rules.get(f.name) == "publish"), None)
    if described:
        names.append(described)
    shown = []
    for name in names:
        value, treatment = _plain(row[name]), rules.get(name)
        if value is None or treatment in ("omit", "never"):
            continue
        shown.append(str(mask_value(value, schema.field(name)) if treatment == "mask" else value))
    return " · ".join(shown)


# --------------------------------------------------------------------------- files


def write_changes(summary: ChangeSummary, csv_path: Path, json_path: Path) -> None:
    """The summary as CSV (UTF-8 with BOM, one line per change, for Excel) and JSON (structured)."""
    write_csv(csv_path, [CSV_COLUMNS, *summary.csv_rows()])
    json_path.write_text(json.dumps(summary.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _plain(value: Any) -> Any:
    """A JSON/CSV-friendly Python value: NaN/NA become None, dates ISO text, numpy scalars Python ones."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    if hasattr(value, "item"):
        return value.item()
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _cell(value: Any) -> Any:
    return "" if value is None else value


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"
