"""The record of published changes: one row per publication or abolition, numbered in the order
they were committed, so that feeds and other portals can follow the catalogue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, utcnow


class CatalogueChange(Base):
    """A procedure's public record as it was published (or abolished), with what changed since
    the one before in words. Written in the same transaction as the publication."""

    __tablename__ = "catalogue_change"

    # The sequence number other portals ask for (`/api/v1/changes?since=`).
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    code: Mapped[str] = mapped_column(String(50), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(Text)
    # Slugs of the implementing agencies and of the lĩnh vực, space-separated with a space at
    # both ends, so that a feed filters with a portable LIKE '% slug %'.
    agencies: Mapped[str] = mapped_column(Text, default=" ")
    fields: Mapped[str] = mapped_column(Text, default=" ")
    summary: Mapped[list[str]] = mapped_column(JSON, default=list)
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
