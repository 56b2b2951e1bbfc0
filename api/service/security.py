"""Bearer tokens: random, shown once, stored as their sha256.

A token is 32 random bytes from :mod:`secrets` (256 bits) in URL-safe base64 behind a prefix
that says whose it is (``mxi_`` instructor, ``mxp_`` participant), so a person reading one
knows what it opens. Such a token cannot be guessed, so a plain (unsalted) sha256 is enough to
store it: the database never holds a usable token.

Tokens never belong in a URL (the event stream takes a single-use ticket instead); as a
second guard, :class:`RedactTokens` blanks anything token-shaped in log records (installed on
uvicorn's access and error loggers by :func:`install_log_redaction`).
"""

from __future__ import annotations

import hashlib
import logging
import re
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


#: A token or ticket of this service (``mxi_``, ``mxp_``, ``mxt_`` + base64url), a bearer
#: credential, or the value of a query parameter that names one.
TOKEN_SHAPED = re.compile(r"\bmx[ipt]_[A-Za-z0-9_\-]{8,}")
SECRET_QUERY = re.compile(r"(?i)\b((?:access_token|token|ticket|api_key|key)=)[^&\s\"']+")
BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9_\-.~+/=]{8,}")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """``text`` with every token-shaped part replaced by ``[redacted]``.

    >>> redact("GET /api/v1/sessions/x/events?access_token=mxp_abcDEF123_-xyz&after=3")
    'GET /api/v1/sessions/x/events?access_token=[redacted]&after=3'
    >>> redact("Authorization: Bearer mxi_0123456789abcdef")
    'Authorization: Bearer [redacted]'
    """
    text = SECRET_QUERY.sub(lambda m: m.group(1) + REDACTED, text)
    text = BEARER.sub(lambda m: m.group(1) + REDACTED, text)
    return TOKEN_SHAPED.sub(REDACTED, text)


class RedactTokens(logging.Filter):
    """A logging filter that redacts token-shaped text in a record's message and arguments
    (uvicorn's access log passes the request line as an argument)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v
                           for k, v in record.args.items()}
        return True


def install_log_redaction(names: tuple[str, ...] = ("uvicorn.access", "uvicorn.error")
                          ) -> None:
    """Add :class:`RedactTokens` to the named loggers (once each)."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
