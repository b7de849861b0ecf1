"""Structured logs: one JSON object a line, carrying the request id, and scrubbed of secrets.

Every line has ``timestamp``, ``level``, ``logger``, ``message`` and ``request_id`` (set for
the duration of a request by the request-id middleware), plus the record's context fields
(``extra=``). What is logged is chosen not to hold secrets or personal data; :class:`Redact`
is the second line of defence: it drops context fields whose names say they hold such data and
masks what looks like a credential, an e-mail address or SQL parameter values in any text.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO, Any

import orjson

from api.settings import Settings

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)
# Context fields never logged, whatever a caller passes (compared without case, - or _).
_FORBIDDEN_FIELDS = frozenset(
    {
        "authorization",
        "token",
        "accesstoken",
        "refreshtoken",
        "secret",
        "clientsecret",
        "password",
        "cookie",
        "variables",
        "query",
        "familyname",
        "givenname",
        "name",
        "email",
        "dateofbirth",
        "birthdate",
        "code",
        "verificationcode",
    }
)
MASK = "[redacted]"
_PATTERNS = [
    # Bearer and Basic credentials, in headers or prose.
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + MASK),
    # JSON Web Tokens (three base64url parts, the first a JSON header).
    (re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), MASK),
    # key=value and "key": "value" pairs whose key names a secret or personal data.
    (
        re.compile(
            r"(?i)([\"']?\b(?:client_secret|secret|password|access_token|refresh_token|token|"
            r"authorization|family_?name|given_?name|email|date_?of_?birth)[\"']?\s*[:=]\s*)"
            r"(\"[^\"]*\"|'[^']*'|[^\s,&;}]+)"
        ),
        r"\1" + MASK,
    ),
    # SQLAlchemy's "[parameters: ...]" and PostgreSQL's "DETAIL: Key (col)=(value)".
    (re.compile(r"\[parameters: [^\n]*"), "[parameters: " + MASK + "]"),
    (re.compile(r"(?i)(DETAIL:\s*)[^\n]*"), r"\1" + MASK),
    (re.compile(r"\(([^()]*)\)=\([^()]*\)"), r"(\1)=(" + MASK + ")"),
    # E-mail addresses anywhere.
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), MASK),
]


# Every match of every pattern above contains one of these: a text without any (an access
# line, most messages) is returned after one scan instead of seven.
_MAY_NEED_SCRUBBING = re.compile(
    r"(?i)bearer|basic|eyj|secret|password|token|authorization|family|given|email|date"
    r"|parameters|detail|\)=\(|@"
)


def scrub(text: str) -> str:
    # Short texts (a method, a route, a client id, an access line) come back again and again.
    return _scrub_short(text) if len(text) <= _SHORT else _scrub(text)


_SHORT = 80


@functools.lru_cache(maxsize=1024)
def _scrub_short(text: str) -> str:
    return _scrub(text)


def _scrub(text: str) -> str:
    if _MAY_NEED_SCRUBBING.search(text) is None:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


@functools.lru_cache(maxsize=256)
def _is_forbidden(key: str) -> bool:
    return key.replace("_", "").replace("-", "").lower() in _FORBIDDEN_FIELDS


class Redact(logging.Filter):
    """Formats each record's message once, scrubbed; scrubs or drops its context fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = None
        for key in [k for k in vars(record) if k not in _STANDARD]:
            value = getattr(record, key)
            if _is_forbidden(key):
                delattr(record, key)
            elif isinstance(value, str):
                setattr(record, key, scrub(value))
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        if record.exc_info:
            line["exception"] = scrub(self.formatException(record.exc_info))
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = f"{record.levelname} {record.name} [{request_id_var.get() or '-'}] "
        text += record.getMessage()
        context = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if context:
            text += " " + " ".join(f"{k}={v}" for k, v in context.items())
        if record.exc_info:
            text += "\n" + scrub(self.formatException(record.exc_info))
        return text


def configure_logging(settings: Settings, *, stream: IO[str] | None = None) -> logging.Handler:
    """Routes every logger (uvicorn's too) through one redacting handler on stderr."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(Redact())
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # No line shows the caller's file and line, thread or process: spare every record
    # finding them (the logging HOWTO's "Optimization"; the access line is on every request).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # HTTP clients (webhook deliveries) log whole URLs, query strings included, at INFO.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler
