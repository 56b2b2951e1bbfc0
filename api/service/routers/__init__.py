"""Routers of the API, composed into :data:`api_router` (mounted under ``/api/v1``)."""

from __future__ import annotations

from fastapi import APIRouter

from api.service.routers import (
    accounts,
    bids,
    events,
    gateway,
    health,
    participants,
    rounds,
    sessions,
)

api_router = APIRouter()
for module in (health, sessions, participants, rounds, bids, accounts, events, gateway):
    api_router.include_router(module.router)
