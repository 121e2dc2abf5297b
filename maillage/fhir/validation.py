"""Checking resources against the R4B models, both ways.

Every resource we emit goes through its model (``emit``), so a mapper
cannot send invalid FHIR. Every resource we receive is parsed by its model
(``parse``) and pydantic's errors become OperationOutcome issues, one per
problem, with the FHIRPath of the element at fault.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.utils.translation import gettext as _
from fhir.resources.R4B.resource import Resource
from pydantic import ValidationError

from maillage.fhir.outcome import FhirError, Issue
from maillage.fhir.result import Json

R = TypeVar("R", bound=Resource)

# Enough to fix a resource; a client sending garbage does not get a novel.
MAX_ISSUES = 20
_ELEMENT = re.compile(r"^_?[A-Za-z][A-Za-z0-9]*$")
_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?\+00:00$")


class MapperDrift(AssertionError):
    """A mapper emitted what its model would change: invalid, or not in the model's form."""


def validating_responses() -> bool:
    """Whether ``emit`` checks each resource against its model (the tests: yes)."""
    return bool(getattr(settings, "MAILLAGE_FHIR_VALIDATE_RESPONSES", False))


def emit(model: type[Resource], data: Json) -> Json:
    """The resource as the mapper made it, proven against its model where that is asked.

    Validating and dumping by ``fhir.resources`` cost a third of a Patient
    read (bench/README.md, "Throughput against a real server"), the same
    work on every response for a mapper that does not change between two.
    It is a guarantee about our mappers, so it is given where they are
    proven: with ``MAILLAGE_FHIR_VALIDATE_RESPONSES`` (on in every test, by
    maillage/conftest.py) the model validates the resource and dumps it, and
    the dump must be the mapper's own output, so that what a test sees is
    what production sends without the check. In production the setting is
    off and the mapper's JSON goes out as it is (None elements dropped).
    """
    if not validating_responses():
        return _normal(data)
    dumped: Json = model.model_validate(data).model_dump(mode="json", exclude_none=True)
    if dumped != _normal(data):
        raise MapperDrift(
            f"the {model.get_resource_type()} mapper's output is not its model's form: "
            f"{_difference(_normal(data), dumped)}"
        )
    return dumped


def _normal(value: Any) -> Any:
    """What the model's dump does to a mapper's JSON, without the model.

    Absent elements (None, empty lists and objects) are left out, and a
    UTC offset of an instant is written ``Z``, a decimal as a JSON number.
    The tests prove, resource by resource, that nothing else changes
    (``emit`` with the check on).
    """
    if isinstance(value, dict):
        kept = {}
        for key, item in value.items():
            item = _normal(item)
            if item is not None and item != [] and item != {}:
                kept[key] = item
        return kept
    if isinstance(value, list):
        items = [_normal(item) for item in value if item is not None]
        return [item for item in items if item != {}]
    if isinstance(value, str) and value.endswith("+00:00") and _INSTANT.match(value):
        return value[:-6] + "Z"
    if isinstance(value, Decimal):
        return float(value)
    return value


def _difference(mapped: Any, dumped: Any, path: str = "") -> str:
    """The first place where the mapper's output and the model's dump differ."""
    if isinstance(mapped, dict) and isinstance(dumped, dict):
        for key in sorted(set(mapped) | set(dumped)):
            if mapped.get(key) != dumped.get(key):
                return _difference(mapped.get(key), dumped.get(key), f"{path}.{key}")
    if isinstance(mapped, list) and isinstance(dumped, list) and len(mapped) == len(dumped):
        for index, (a, b) in enumerate(zip(mapped, dumped, strict=True)):
            if a != b:
                return _difference(a, b, f"{path}[{index}]")
    return f"{path or '(root)'}: mapped {mapped!r}, model {dumped!r}"


def fhirpath(resource_type: str, location: Sequence[int | str]) -> str:
    path = resource_type
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _ELEMENT.match(part):
            path += f".{part}"
        # Other parts name pydantic's internal validators, not elements.
    return path


def _diagnostics(error: Any) -> str:
    kind = error.get("type", "")
    messages = {
        "extra_forbidden": _("This element is not part of the resource."),
        "missing": _("This element is required."),
        "list_type": _("This element must be a list."),
        "model_type": _("This element must be a JSON object."),
        "dict_type": _("This element must be a JSON object."),
        "string_type": _("This element must be a string."),
        "bool_type": _("This element must be true or false."),
        "bool_parsing": _("This element must be true or false."),
        "string_pattern_mismatch": _("This value does not have the expected format."),
        "string_too_short": _("This value must not be empty."),
        "base64_decode": _("This value is not valid base64."),
    }
    if kind in messages:
        return str(messages[kind])
    return _("This value is not valid (%(detail)s).") % {"detail": error.get("msg", kind)}


def issues_from(error: ValidationError, resource_type: str) -> list[Issue]:
    issues = [
        Issue(
            _diagnostics(e),
            code="structure" if e.get("type") == "extra_forbidden" else "invalid",
            expression=(fhirpath(resource_type, e.get("loc", ())),),
        )
        for e in error.errors()[:MAX_ISSUES]
    ]
    return issues or [Issue(_("The resource is not valid."), code="structure")]


def _no_constants(value: str) -> float:
    raise ValueError(value)


def load_json(body: bytes) -> Json:
    """The body as a JSON object, or a 400."""
    try:
        # NaN and Infinity are not JSON; the standard library accepts them.
        data = json.loads(body.decode("utf-8"), parse_constant=_no_constants)
    except (ValueError, RecursionError):
        raise FhirError.single(400, _("The body is not valid JSON."), code="structure") from None
    if not isinstance(data, dict):
        raise FhirError.single(400, _("The body must be a JSON object."), code="structure")
    if _holds_nul(data):
        # No database stores it (PostgreSQL refuses it outright).
        raise FhirError.single(400, _("The body contains a NUL character."), code="structure")
    return data


def _holds_nul(value: object) -> bool:
    """Whether any key or string in a decoded JSON document holds U+0000."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def parse(model: type[R], data: Json) -> R:
    """A received resource of the model's type, validated, or a 400 with every problem."""
    expected = model.get_resource_type()
    if data.get("resourceType") != expected:
        raise FhirError.single(
            400,
            _("The body must be a %(type)s resource (resourceType “%(type)s”).")
            % {"type": expected},
            code="structure",
            expression="resourceType",
        )
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise FhirError(400, issues_from(error, expected)) from None
    except (TypeError, ValueError, LookupError, AttributeError, RecursionError):
        # The models' own validators fail this way on input they did not
        # foresee (a contained resource of an unknown type raises KeyError).
        raise FhirError.single(
            400, _("The resource is not valid."), code="structure", expression=expected
        ) from None
