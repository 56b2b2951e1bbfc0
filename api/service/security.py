"""Bearer tokens: random, shown once, stored as their sha256.

A token is 32 random bytes from :mod:`secrets` (256 bits) in URL-safe base64 behind a prefix
that says whose it is (``mxi_`` instructor, ``mxp_`` participant), so a person reading one
knows what it opens. Such a token cannot be guessed, so a plain (unsalted) sha256 is enough to
store it: the database never holds a usable token.
"""

from __future__ import annotations

import hashlib
import secrets

INSTRUCTOR_PREFIX = "mxi_"
PARTICIPANT_PREFIX = "mxp_"
TOKEN_BYTES = 32
#: Bytes of a session id (96 bits: an id is also what a student needs to find a game).
SESSION_ID_BYTES = 12


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(TOKEN_BYTES)


def token_sha256(token: str) -> str:
    """Hex sha256 of a token, as stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_session_id() -> str:
    return secrets.token_urlsafe(SESSION_ID_BYTES)
