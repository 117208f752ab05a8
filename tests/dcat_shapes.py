"""DCAT-AP 3 validation for the tests: pyshacl against the SEMIC shapes kept in ``tests/shapes/dcat-ap-3``.

Offline: the shapes are read from the repository (see its SOURCE.md) and import nothing. A result's
severity decides: a ``sh:Violation`` breaks DCAT-AP, a ``sh:Warning`` (the recommended properties)
does not. ``with_imports`` adds the statements of DCAT-AP's imported ontologies and code lists that
CKAN's output relies on (``imports-excerpt.ttl``), as DCAT-AP's own validation setup loads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyshacl
from rdflib import RDF, Graph, Namespace
from rdflib.namespace import SH

EU = "http://publications.europa.eu/resource/authority/"
# Open namespaces: rdflib's closed ones warn when pytest looks for mocks among a module's names.
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")

SHAPES = Path(__file__).parent / "shapes" / "dcat-ap-3"
SHAPE_FILES = ("shapes.ttl", "range.ttl", "shapes_recommended.ttl")


@dataclass(frozen=True)
class Verdict:
    conforms: bool
    violations: list[str]
    warnings: list[str]

    def explain(self, shown: int = 10) -> str:
        """The first violations, for an assertion's message."""
        lines = self.violations[:shown]
        more = len(self.violations) - len(lines)
        return f"{len(self.violations)} violaciones DCAT-AP:\n" + "\n".join(lines) + (f"\n… y {more} más" if more else "")


@cache
def shapes() -> Graph:
    graph = Graph()
    for name in SHAPE_FILES:
        graph.parse(SHAPES / name, format="turtle")
    return graph


@cache
def imports() -> Graph:
    return Graph().parse(SHAPES / "imports-excerpt.ttl", format="turtle")


def validate(data: Graph, *, with_imports: bool = False) -> Verdict:
    conforms, report, _ = pyshacl.validate(data + imports() if with_imports else data, shacl_graph=shapes(),
                                           allow_warnings=True)
    violations, warnings = [], []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        line = (f"{report.value(result, SH.focusNode)} {report.value(result, SH.resultPath)}: "
                f"{report.value(result, SH.resultMessage)}")
        (violations if report.value(result, SH.resultSeverity) == SH.Violation else warnings).append(line)
    return Verdict(bool(conforms), sorted(violations), sorted(warnings))
