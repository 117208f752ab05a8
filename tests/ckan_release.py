"""Build realistic rendered releases (files + ResourceFiles) for the CKAN tests and the benchmark.

Stands in for ``publishers.render`` (written elsewhere) by producing the contract's shapes directly:
per month a CSV with its DataStore table, a JSON and a Parquet file, the validation report, and a
consolidated history CSV of all months.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pandas as pd

from transparencia.domain import Frequency, OutputFormat, Period
from transparencia.publishers.base import BASE_TAGS, Coverage, DatasetSpec, DatastoreField, DatastoreTable, ResourceFile

FIELDS = (
    DatastoreField("periodo", "text", "Período", "Mes que se informa, en formato AAAA-MM."),
    DatastoreField("posicion", "int", "Posición", "Número de posición en la planilla."),
    DatastoreField("unidad_administrativa", "text", "Unidad administrativa", "Dirección donde labora el funcionario."),
    DatastoreField("cargo", "text", "Cargo", "Denominación del cargo."),
    DatastoreField("salario", "numeric", "Salario", "Salario mensual bruto en balboas."),
    DatastoreField("fecha_inicio", "date", "Fecha de inicio", "Fecha de inicio de labores."),
)


def month_rows(period: str, count: int, salary_bump: float = 0.0) -> pd.DataFrame:
    _year, _month = (int(part) for part in period.split("-"))
    return pd.DataFrame({
        "periodo": [period] * count,
        "posicion": range(1, count + 1),
        "unidad_administrativa": [f"Dirección de Finanzas {i % 7}" for i in range(count)],
        "cargo": [f"Analista {i % 11} — área ñ" for i in range(count)],
        "salario": [round(1000 + (i % 500) * 3.25 + salary_bump, 2) for i in range(count)],
        "fecha_inicio": pd.to_datetime([f"{2000 + i % 25}-{1 + i % 12:02d}-15" for i in range(count)]).date,
    })


def expected_totals(frame: pd.DataFrame) -> tuple[int, Decimal]:
    """A month frame's row count and salary sum, exact (each float by its shortest decimal)."""
    return len(frame), sum((Decimal(repr(v)) for v in frame["salario"]), Decimal(0))


def table_totals(server, resource_id: str) -> tuple[int, Decimal]:
    """The same two figures as the portal's DataStore table holds them, summed by PostgreSQL."""
    sql = f'SELECT count(*) AS n, sum(salario) AS s FROM "{resource_id}"'
    row = server.admin().action.datastore_search_sql(sql=sql)["records"][0]
    return int(row["n"]), Decimal(str(row["s"]))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dataset_spec(organization: str, name: str) -> DatasetSpec:
    return DatasetSpec(
        name=name, title="Planilla — Institución de prueba",
        notes="Funcionarios de la institución en el mes, según el artículo 11 de la Ley 6 de 2002.",
        organization=organization, license_id="cc-zero", tags=(*BASE_TAGS, "planilla"),
        maintainer="Oficial de Información", maintainer_email="transparencia@example.org",
        frequency=Frequency.MONTHLY, coverage=Coverage(Period(2025, 1), Period(2025, 2)),
        legal_basis="Ley 6 de 2002, artículo 11", directorate="Dirección de Recursos Humanos")


def _resource(directory: Path, name: str, fmt: str, filename: str, period: str | None,
              datastore: DatastoreTable | None = None) -> ResourceFile:
    path = directory / filename
    return ResourceFile(name=name, format=OutputFormat(fmt.lower()), path=path, sha256=sha256_of(path),
                        description=f"{name}. Archivo generado por transparencia.",
                        period=Period.parse(period) if period else None, datastore=datastore)


def render_release(directory: Path, months: dict[str, pd.DataFrame]) -> list[ResourceFile]:
    """Files for every month in ``months`` plus the history; returns them as ResourceFiles."""
    directory.mkdir(parents=True, exist_ok=True)
    resources = []
    for period, frame in sorted(months.items()):
        frame.to_csv(directory / f"planilla-{period}.csv", index=False)
        frame.to_json(directory / f"planilla-{period}.json", orient="records", force_ascii=False, date_format="iso")
        frame.to_parquet(directory / f"planilla-{period}.parquet", index=False)
        (directory / f"validacion-{period}.json").write_text(
            json.dumps({"periodo": period, "filas": len(frame), "hallazgos": []}, ensure_ascii=False), encoding="utf-8")
        table = DatastoreTable(fields=FIELDS, rows_path=directory / f"planilla-{period}.parquet", primary_key=("posicion",))
        resources += [
            _resource(directory, f"Planilla {period} (CSV)", "CSV", f"planilla-{period}.csv", period, table),
            _resource(directory, f"Planilla {period} (JSON)", "JSON", f"planilla-{period}.json", period),
            _resource(directory, f"Planilla {period} (Parquet)", "PARQUET", f"planilla-{period}.parquet", period),
            _resource(directory, f"Informe de validación {period} (JSON)", "JSON", f"validacion-{period}.json", period),
        ]
    history = pd.concat([months[p] for p in sorted(months)], ignore_index=True)
    history.to_csv(directory / "planilla-historico.csv", index=False)
    resources.append(_resource(directory, "Planilla histórico (CSV)", "CSV", "planilla-historico.csv", None))
    return resources
