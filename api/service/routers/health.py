"""``GET /health``: the app answers and its database too."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter
from sqlalchemy import text

from api.service.deps import DbDep
from api.service.schemas.accounts import HealthPublic

router = APIRouter(tags=["health"])


def _version() -> str:
    try:
        return version("mengxi-sandbox")
    except PackageNotFoundError:  # pragma: no cover - running from a plain checkout
        return "unknown"


@router.get("/health", operation_id="health")
def health(db: DbDep) -> HealthPublic:
    """Liveness and database reachability (no token needed)."""
    with db.begin():
        db.execute(text("SELECT 1"))
    return HealthPublic(status="ok", database="ok", version=_version())
