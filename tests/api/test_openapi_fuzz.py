"""The OpenAPI document is the contract: a bounded, deterministic schemathesis pass over every
operation, as the instructor and as a participant of a game in play, requires no server
error, no status code the document does not declare and no response outside its schema
(issue 12, D6). Slow: a few examples per operation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings

from tests.api.conftest import Game, TestClient, create_app, new_game, settings_for

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.fixture
def fuzz_game(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, Game]]:
    """An app on its own SQLite file and a game with genco-1 seated and the capacity round
    open."""
    app = create_app(settings_for("sqlite", request, tmp_path, max_streams_per_token=50))
    with TestClient(app) as client:
        game = new_game(client, join=("genco-1",))
        game.open()
        yield app, game


@pytest.mark.slow
def test_the_document_is_the_contract(fuzz_game: tuple[Any, Game]) -> None:
    app, game = fuzz_game
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    failures: list[str] = []
    for operation in operations:

        @hsettings(max_examples=8, derandomize=True, deadline=None, database=None,
                   phases=[Phase.explicit, Phase.generate],
                   suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            if case.path_parameters and "session_id" in case.path_parameters:
                case.path_parameters["session_id"] = game.id
            if case.operation.path.endswith("/events"):
                case.query = {**(case.query or {}), "follow": "false"}
            for who in ("instructor", "genco-1"):
                case.call_and_validate(headers=game.as_(who), checks=CHECKS)

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - every operation's failure is reported
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
