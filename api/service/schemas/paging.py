"""One pagination style for every paged list: the page's rows in ``data``, ``total`` (rows
in all pages) and ``next_cursor`` (the value to pass as the list's cursor parameter for the
next page: ``offset`` for sessions and ledgers, ``after`` for events and the audit trail;
``null`` on the last page)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PageFields(BaseModel):
    """``total`` and ``next_cursor`` of a paged list."""

    total: int = Field(ge=0, description="Rows in all pages (the filters applied)")
    next_cursor: int | None = Field(
        description="Pass as the list's cursor parameter (offset or after) for the next page; "
                    "null: this page is the last (for now, for event lists)")


def next_offset(offset: int, limit: int, total: int) -> int | None:
    """The offset of the page after ``[offset, offset + limit)`` of ``total`` rows, or None."""
    return offset + limit if offset + limit < total else None
