"""Checking the CPSV-AP export against the specification's own SHACL shapes and JSON-LD
context, read in place from ../shared/data/cpsv-ap (SOURCE.md there), never copied: the JSON-LD
is turned into RDF with pyld (the profile's context served from that folder, nothing from the
internet) and validated with pySHACL. Used by tests/test_opendata_cpsv.py and bench/."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pyshacl
from pyld import jsonld
from rdflib import Graph, URIRef

from services.opendata.cpsv import PROFILE_CONTEXT

SEVERITY = URIRef("http://www.w3.org/ns/shacl#resultSeverity")


def folder() -> Path:
    """shared/data/cpsv-ap beside the checkout or beside any parent (worktrees)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "shared" / "data" / "cpsv-ap" / "cpsv-ap-SHACL.ttl").is_file():
            return parent / "shared" / "data" / "cpsv-ap"
    raise FileNotFoundError("shared/data/cpsv-ap (the CPSV-AP shapes) is not beside the checkout")


@cache
def _context() -> dict[str, Any]:
    return json.loads((folder() / "cpsv-ap.jsonld").read_text(encoding="utf-8"))


def _loader(url: str, _options: dict | None = None) -> dict[str, Any]:
    if url != PROFILE_CONTEXT:
        raise jsonld.JsonLdError(f"no network in tests: {url}", "loading document failed")
    return {"contextUrl": None, "documentUrl": url, "document": _context()}


@cache
def shapes() -> Graph:
    return Graph().parse(folder() / "cpsv-ap-SHACL.ttl")


def to_graph(document: dict[str, Any]) -> Graph:
    """The document's RDF, through pyld with the profile's context from the local copy."""
    nquads = jsonld.to_rdf(document, {"format": "application/n-quads", "documentLoader": _loader})
    return Graph().parse(data=nquads, format="nt")  # one default graph: N-Triples lines


def violations(document: dict[str, Any]) -> tuple[int, str]:
    """The number of SHACL violations of `document` and pySHACL's report."""
    conforms, report, text = pyshacl.validate(to_graph(document), shacl_graph=shapes())
    count = sum(1 for _ in report.subjects(SEVERITY, None))
    return (0 if conforms else count), text
