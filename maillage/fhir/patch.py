"""PATCH bodies: a JSON Patch (RFC 6902) or a JSON Merge Patch (RFC 7396), applied to a resource.

A client patches the version it would read: the patch is applied to the
current resource as the API shows it, and the result is then an update like
any other (the resource's own handler decides). JSON Patch is what FHIR R4
names; a merge patch is what fhirpy's ``patch()`` sends (``application/json``
with the elements to change, ``null`` removing one). FHIRPath Patch is not
supported (415).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jsonpatch
import jsonpointer
from django.utils.translation import gettext as _

from maillage.fhir.outcome import FhirError
from maillage.fhir.result import Json

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
# Media types read as a merge patch: its own, and plain JSON (fhirpy).
MERGE_TYPES = frozenset({MERGE_PATCH, "application/json"})
PATCH_TYPES = frozenset({JSON_PATCH, *MERGE_TYPES})
MAX_PATCH_OPERATIONS = 100


def media_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


@dataclass(frozen=True)
class Patch:
    """A parsed patch; ``apply`` gives the patched resource or raises a 422."""

    apply_to: Callable[[Json], Any]

    def apply(self, current: Json, resource_id: str) -> Json:
        try:
            patched = self.apply_to(current)
        except (
            jsonpatch.JsonPatchException,
            jsonpointer.JsonPointerException,
            TypeError,
            RecursionError,
        ):
            raise FhirError.single(
                422,
                _("The patch cannot be applied to the current version of the resource."),
                code="processing",
            ) from None
        if (
            not isinstance(patched, dict)
            or patched.get("resourceType") != current.get("resourceType")
            or patched.get("id") != resource_id
        ):
            raise FhirError.single(
                422, _("A patch may not change the resource's type or id."), code="processing"
            )
        return patched


def parse_patch(body: bytes, content_type: str) -> Patch:
    """The body as the patch its media type says, or a 400 naming what is wrong."""
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise FhirError.single(400, _("The body is not valid JSON."), code="structure") from None
    if media_type(content_type) in MERGE_TYPES:
        if not isinstance(data, dict):
            raise FhirError.single(
                400, _("A merge patch is a JSON object of the elements to change."), "structure"
            )
        return Patch(lambda current: merge(current, data))
    return Patch(_json_patch(data).apply)


def _json_patch(operations: object) -> jsonpatch.JsonPatch:
    if not isinstance(operations, list) or not all(isinstance(o, dict) for o in operations):
        raise FhirError.single(
            400, _("A JSON Patch is a list of operations (objects)."), code="structure"
        )
    if len(operations) > MAX_PATCH_OPERATIONS:
        raise FhirError.single(
            400,
            _("Too many operations in one patch: at most %(max)s.") % {"max": MAX_PATCH_OPERATIONS},
            code="too-costly",
        )
    if any(o.get("op") == "copy" for o in operations):
        # Each copy may double the document: 25 of them make gigabytes. A
        # client copies a value by sending it in an "add".
        raise FhirError.single(
            400,
            _('The "copy" operation is not supported: send the value in an "add".'),
            code="not-supported",
        )
    try:
        return jsonpatch.JsonPatch(operations)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException):
        raise FhirError.single(
            400, _("This is not a valid JSON Patch (RFC 6902)."), code="structure"
        ) from None


def merge(target: Any, patch: Any) -> Any:
    """RFC 7396: objects merge member by member, ``null`` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = merge(merged.get(name), value)
    return merged


def _no_constant(value: str) -> float:
    raise ValueError(value)
