"""The gateway's own routes: the instructor's token rotation, a session's token policy, the
session's audit trail (see :mod:`api.service.gateway`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.service.deps import (
    INT64_MAX,
    CurrentInstructor,
    CurrentInstructorAny,
    DbDep,
    LiveDep,
    SessionIdPath,
    SettingsDep,
)
from api.service.errors import responses
from api.service.gateway import audit, tokens
from api.service.schemas.gateway import (
    AuditPublic,
    InstructorTokenPublic,
    TokenPolicy,
    TokenPolicyPublic,
)

router = APIRouter(tags=["gateway"])
# The instructor's rotation comes last in the document: a client that walks it in order (the
# fuzz test) rotates the token after using it everywhere else.


@router.get("/sessions/{session_id}/token-policy", operation_id="get_token_policy")
def get_token_policy(session_id: SessionIdPath, member: CurrentInstructor, db: DbDep,
                     settings: SettingsDep) -> TokenPolicyPublic:
    """How long this session's participant tokens live (instructor)."""
    return tokens.policy(db, settings, member.session_id)


@router.put("/sessions/{session_id}/token-policy", operation_id="set_token_policy")
def set_token_policy(session_id: SessionIdPath, body: TokenPolicy, member: CurrentInstructor,
                     db: DbDep, live: LiveDep, settings: SettingsDep) -> TokenPolicyPublic:
    """Set how long this session's participant tokens live after they are issued (null: the
    server's default); it applies to the tokens already issued (instructor)."""
    return tokens.set_policy(db, live, settings, member.session_id, body)


@router.get("/sessions/{session_id}/audit", operation_id="get_audit_trail")
def get_audit_trail(session_id: SessionIdPath, member: CurrentInstructor, db: DbDep,
                    after: Annotated[int, Query(ge=0, le=INT64_MAX,
                                                description="An audit row id (0: from the "
                                                            "start)")] = 0,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> AuditPublic:
    """The session's audit trail, oldest first: every write and refusal, and every read of
    the bids by the instructor (instructor)."""
    return audit.read(db, member.session_id, after, limit)


@router.post("/instructor/token", operation_id="rotate_instructor_token",
             responses=responses(401, 403, 429))
def rotate_instructor_token(instructor: CurrentInstructorAny, db: DbDep, live: LiveDep,
                            settings: SettingsDep) -> InstructorTokenPublic:
    """Replace your instructor token with a new one (shown once); the old one gets 401 from
    now on. Your sessions stay yours."""
    return tokens.rotate_instructor(db, live, settings, instructor.id)
