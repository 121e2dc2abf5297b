"""Versions on the wire: ETag and Last-Modified, If-Match, vread ids, history Bundles.

Every resource the API returns carries ``meta.versionId`` and
``meta.lastUpdated`` (``maillage.fhir.mapping.common.meta``): a Patient its
version counter (``maillage.patients``), a document its status changes, and
a resource that never changes "1" and its creation time. The router copies
them into ``ETag: W/"<versionId>"`` and ``Last-Modified`` on every answer
that is one resource (read, vread, create, update, patch).

Headers are the client's text: they are split by hand, never by a pattern.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from email.utils import format_datetime
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from maillage.fhir.outcome import FhirError
from maillage.fhir.patch import PATCH_TYPES
from maillage.fhir.result import FhirResult, Json

if TYPE_CHECKING:
    from maillage.fhir.router import Call

# A version number is a positive integer; more digits than this names none.
_MAX_DIGITS = 9


def etag(version: object) -> str:
    return f'W/"{version}"'


def http_date(moment: dt.datetime) -> str:
    """RFC 7231's IMF-fixdate, as Last-Modified wants it."""
    return format_datetime(moment.astimezone(dt.UTC), usegmt=True)


def version_headers(resource: Json) -> dict[str, str]:
    """ETag and Last-Modified of a resource, from its meta; none for a Bundle or an outcome."""
    meta = resource.get("meta")
    if resource.get("resourceType") in {"Bundle", "OperationOutcome"} or not isinstance(
        meta, Mapping
    ):
        return {}
    headers = {}
    if "versionId" in meta:
        headers["ETag"] = etag(meta["versionId"])
    if "lastUpdated" in meta:
        headers["Last-Modified"] = http_date(dt.datetime.fromisoformat(meta["lastUpdated"]))
    return headers


def with_version_headers(result: FhirResult) -> FhirResult:
    """The result with the ETag and Last-Modified of the resource it answers with."""
    if result.raw is not None or result.status >= 300 or "ETag" in result.headers:
        return result
    added = version_headers(result.body)
    if not added:
        return result
    return replace(result, headers={**result.headers, **added})


# Types whose version changes with every change of what a reader gets: a
# Patient (its counter) and a file's bytes (never changed). Others keep their
# version while something shown changes (a directory entry, a mask on a
# document, a read receipt): no 304 for them, a client always gets them anew.
NOT_MODIFIED_TYPES = frozenset({"Patient", "Binary"})


def not_modified(if_none_match: str, result: FhirResult) -> FhirResult:
    """304 without a body when the client already holds this version (If-None-Match)."""
    etag_sent = result.headers.get("ETag")
    if not if_none_match.strip() or etag_sent is None or result.status != 200:
        return result
    held = {_version_text(tag) for tag in if_none_match.split(",")}
    if "*" not in held and _version_text(etag_sent) not in held:
        return result
    headers = {k: v for k, v in result.headers.items() if k in {"ETag", "Last-Modified"}}
    return FhirResult({}, status=304, headers=headers, encoded=b"")


def _version_text(tag: str) -> str:
    """``W/"3"``, ``"3"`` and ``3`` all name version 3 (fhirpy sends the last)."""
    text = tag.strip()
    text = text[2:] if text[:2] in {"W/", "w/"} else text
    return text.strip('"')


def _number(text: str) -> int | None:
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > _MAX_DIGITS:
        return None
    number = int(text)
    return number if number > 0 else None


def requested_version(call: Call) -> int:
    """The version a vread names; one that cannot be ours names nothing (404)."""
    number = _number(call.version_id)
    if number is None:
        raise FhirError.single(404, _("This version does not exist."), code="not-found")
    return number


def expected_version(call: Call) -> int | None:
    """The version ``If-Match`` expects (``W/"3"``, ``"3"``), None without one or with ``*``."""
    raw = call.request.header("if-match").strip()
    if not raw or raw == "*":
        return None
    text = raw[2:] if raw[:2] in {"W/", "w/"} else raw
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    number = _number(text)
    if number is None:
        raise FhirError.single(
            400,
            _('If-Match must name a version as the ETag gave it, e.g. W/"3".'),
            expression="If-Match",
        )
    return number


def stale(current: int) -> FhirError:
    return FhirError.single(
        412,
        _(
            "The resource changed since you read it: it is now at version %(version)s. "
            "Read it again and apply your change to that version."
        )
        % {"version": current},
        code="conflict",
    )


def check_patch_type(content_type: str) -> None:
    """A PATCH body is a JSON Patch or a JSON Merge Patch; FHIRPath Patch is not supported."""
    kind, *parameters = content_type.split(";")
    charsets = [
        value.strip().strip('"').lower()
        for name, _sep, value in (p.partition("=") for p in parameters)
        if name.strip().lower() == "charset"
    ]
    if kind.strip().lower() not in PATCH_TYPES or any(c not in {"utf-8", "utf8"} for c in charsets):
        raise FhirError.single(
            415,
            _(
                "Send the patch as a JSON Patch (application/json-patch+json) or a JSON Merge "
                "Patch (application/merge-patch+json)."
            ),
            code="not-supported",
        )


@dataclass(frozen=True)
class Version:
    """One version of a resource in a history Bundle."""

    resource: Json  # with its meta
    created: bool  # the first version (a create), not an update


def history_bundle(call: Call, versions: Sequence[Version]) -> FhirResult:
    """A Bundle of type history, newest version first (FHIR R4 3.1.0.12)."""
    base = call.request.base_url
    resource_type = call.route.resource_type
    url = f"{resource_type}/{call.resource_id}"
    entries = []
    for version in versions:
        meta = version.resource["meta"]
        entries.append(
            {
                "fullUrl": f"{base}/{url}",
                "resource": version.resource,
                "request": {
                    "method": "POST" if version.created else "PUT",
                    "url": resource_type if version.created else url,
                },
                "response": {
                    "status": "201 Created" if version.created else "200 OK",
                    "etag": etag(meta["versionId"]),
                    "lastModified": meta["lastUpdated"],
                },
            }
        )
    bundle: Json = {
        "resourceType": "Bundle",
        "type": "history",
        "total": len(entries),
        "link": [{"relation": "self", "url": f"{base}/{url}/_history"}],
    }
    if entries:
        bundle["entry"] = entries
    return FhirResult(bundle)
