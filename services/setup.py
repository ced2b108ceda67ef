"""Setting up an installation: the schema and the demo catalogue."""

from __future__ import annotations

from pathlib import Path

import flask_migrate
from sqlalchemy import select

from . import exchange
from .models import Procedure, db

DEMO_CATALOGUE = Path(__file__).resolve().parent.parent / "data" / "demo-catalogue.json"


def create_schema() -> None:
    """Bring the database schema up to date by running the migrations it has not had yet."""
    flask_migrate.upgrade()


def is_empty() -> bool:
    """True when the catalogue holds no procedure at all."""
    return db.session.execute(select(Procedure.id).limit(1)).first() is None


def load_demo(path: Path = DEMO_CATALOGUE) -> exchange.ImportReport:
    """Import the project's demo catalogue (one transaction)."""
    return exchange.import_catalogue(exchange.read_document(path))
