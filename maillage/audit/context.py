"""Where the current request comes from, for audit entries.

Set by the audit middleware for web and FHIR requests and by commands; the
gate reads it so that callers do not have to thread the request through.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from maillage.audit.models import Channel


@dataclass(frozen=True)
class AuditContext:
    channel: str = Channel.CLI
    ip: str | None = None


_current: contextvars.ContextVar[AuditContext] = contextvars.ContextVar(
    "maillage_audit_context",
    default=AuditContext(),  # noqa: B039 (a frozen dataclass: immutable)
)


def current() -> AuditContext:
    return _current.get()


@contextmanager
def audit_context(channel: str, ip: str | None = None) -> Iterator[None]:
    token = _current.set(AuditContext(channel=channel, ip=ip))
    try:
        yield
    finally:
        _current.reset(token)
