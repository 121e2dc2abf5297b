"""SMART App Launch scopes, parsed into what a token may do.

Plain Python (no Django): the FHIR router asks ``Scopes.allows`` before any
handler, and the OAuth validator asks ``parse_scopes`` before any grant. A
scope only ever narrows the rights of the user behind the token; the policy
still decides every access the scope lets through.

Grammar (SMART v2, with the v1 suffixes accepted)::

    (patient|user|system) "/" (ResourceType|"*") "." (c?r?u?d?s? | read | write | *)

Finer-grained scopes (``?category=...``) are refused rather than widened.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass


class Context(enum.StrEnum):
    PATIENT = "patient"
    USER = "user"
    SYSTEM = "system"


class Access(enum.StrEnum):
    """The SMART v2 permissions, in their canonical order c r u d s."""

    CREATE = "c"
    READ = "r"
    UPDATE = "u"
    DELETE = "d"
    SEARCH = "s"


ORDER = "cruds"
# v1 suffixes, as SMART v2 maps them.
_V1 = {"read": "rs", "write": "cud", "*": "cruds"}
# Not a regex over free text: a fixed shape, no nested quantifier.
_CLINICAL = re.compile(r"(patient|user|system)/([A-Z][A-Za-z]{0,63}|\*)\.([a-z*]{1,5})")
# Scopes that are not about resources, understood by the OAuth validator.
OPENID = "openid"
FHIR_USER = "fhirUser"
OFFLINE = "offline_access"
ONLINE = "online_access"
LAUNCH_PATIENT = "launch/patient"
NON_CLINICAL = frozenset({OPENID, FHIR_USER, OFFLINE, ONLINE, LAUNCH_PATIENT, "profile"})

# Which permission each FHIR interaction needs. Interactions absent from
# this table are refused to a scoped token (a safe default for new ones).
INTERACTION_ACCESS: dict[str, Access] = {
    "read": Access.READ,
    "vread": Access.READ,
    "history-instance": Access.READ,
    "history-type": Access.SEARCH,
    "search-type": Access.SEARCH,
    "search-system": Access.SEARCH,
    "create": Access.CREATE,
    "update": Access.UPDATE,
    "patch": Access.UPDATE,
    "delete": Access.DELETE,
    # Bulk export: reading. The system-level kick-off, the status URL and the
    # files name no resource type, so they need a read scope on every type
    # (``system/*.rs``); the Patient-level kick-off needs one on Patient, and
    # the export then holds only the types the scopes let read.
    "export-system": Access.READ,
    "export-type": Access.READ,
    "export-status": Access.READ,
    "export-cancel": Access.READ,
    "export-file": Access.READ,
}


# A batch or transaction: each of its entries is checked again as an
# interaction of its own (``Router.dispatch_entry``), so any clinical scope
# lets the envelope through.
PER_ENTRY = frozenset({"transaction"})


@dataclass(frozen=True)
class ClinicalScope:
    context: Context
    resource_type: str  # "*" for every type
    permissions: frozenset[Access]

    def covers(self, resource_type: str, access: Access) -> bool:
        return self.resource_type in {"*", resource_type} and access in self.permissions


def _permissions(suffix: str) -> frozenset[Access] | None:
    letters = _V1.get(suffix, suffix)
    # v2 letters must appear once each, in the order c r u d s.
    if not letters or any(c not in ORDER for c in letters):
        return None
    positions = [ORDER.index(c) for c in letters]
    if positions != sorted(set(positions)):
        return None
    return frozenset(Access(c) for c in letters)


def parse_clinical(scope: str) -> ClinicalScope | None:
    """One resource scope, or None when it is not one we understand."""
    if len(scope) > 100:
        return None
    found = _CLINICAL.fullmatch(scope)
    if found is None:
        return None
    permissions = _permissions(found.group(3))
    if permissions is None:
        return None
    return ClinicalScope(Context(found.group(1)), found.group(2), permissions)


def is_known(scope: str) -> bool:
    return scope in NON_CLINICAL or parse_clinical(scope) is not None


@dataclass(frozen=True)
class Scopes:
    """What a token's scopes let through, before the policy decides."""

    granted: frozenset[str]
    clinical: tuple[ClinicalScope, ...]

    @classmethod
    def of(cls, names: Iterable[str]) -> Scopes:
        granted = frozenset(names)
        clinical = tuple(s for n in sorted(granted) if (s := parse_clinical(n)) is not None)
        return cls(granted, clinical)

    @property
    def contexts(self) -> frozenset[Context]:
        return frozenset(s.context for s in self.clinical)

    def allows(self, resource_type: str, interaction: str) -> bool:
        if interaction in PER_ENTRY:
            return bool(self.clinical)
        access = INTERACTION_ACCESS.get(interaction)
        if access is None:
            return False
        return any(s.covers(resource_type, access) for s in self.clinical)

    def allows_any(self, access: Access) -> bool:
        return any(access in s.permissions for s in self.clinical)

    def has(self, name: str) -> bool:
        return name in self.granted
