"""The 24-item catalog and the per-item table schemas, kept as data (YAML) beside this module."""

from transparencia.schemas.catalog import Catalog, Item, load_catalog
from transparencia.schemas.table import Field, Rule, TableSchema, load_schema, parse_schema, schema_names

__all__ = [
    "Catalog", "Field", "Item", "Rule", "TableSchema",
    "load_catalog", "load_schema", "parse_schema", "schema_names",
]
