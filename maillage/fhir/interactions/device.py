"""Device: the equipment readings come from (no patient data): read, search, create.

Any signed-in caller reads and searches devices; the measuring professions
register one (``policy.measurements.require_device_writer``, a refusal
audited). A device is found again by its system id (EUI-64): posting one
already known answers it, 200, rather than a second row for one device.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _
from fhir.resources.R4B.device import Device as FhirDevice

from maillage.fhir.created import answer, created
from maillage.fhir.interactions.common import uuid_or_404
from maillage.fhir.mapping.observation import DEVICE_KIND_SYSTEM, EUI64_SYSTEM, device
from maillage.fhir.mapping.observation_input import device_from_fhir
from maillage.fhir.outcome import FhirError, Issue
from maillage.fhir.result import FhirResult
from maillage.fhir.router import Call, Interaction, Route
from maillage.fhir.search import (
    Match,
    ParamType,
    SearchParam,
    all_of,
    general_params,
    ids_q,
    ordering,
    page,
    search_term,
    searchset,
    token,
)
from maillage.fhir.validation import load_json, parse
from maillage.measurements import actions
from maillage.measurements.models import Device, DeviceKind
from maillage.policy.measurements import DeviceNotAllowed

SORT_FIELDS = {"_lastUpdated": ("created_at",)}
SEARCH_PARAMS = (
    SearchParam(
        "identifier",
        ParamType.TOKEN,
        f"The system id (EUI-64, 16 hexadecimal digits), as {EUI64_SYSTEM}|value or value.",
    ),
    SearchParam("manufacturer", ParamType.STRING, "The manufacturer's name, from its start."),
    SearchParam("type", ParamType.TOKEN, f"Our type of device ({DEVICE_KIND_SYSTEM})."),
    *general_params(sort=tuple(SORT_FIELDS)),
)


def read(call: Call) -> FhirResult:
    call.actor  # noqa: B018 (a signed-in caller: raises 401 otherwise)
    found = Device.objects.filter(uuid=uuid_or_404(call.resource_id)).first()
    if found is None:
        raise FhirError(404)
    return FhirResult(device(found))


def _identifier_q(value: str) -> Q:
    wanted = token(value)
    if wanted.system not in (None, EUI64_SYSTEM):
        return Q(pk__in=[])
    return Q(system_id="".join(c for c in wanted.code if c not in ":- ").upper())


def _type_q(value: str) -> Q:
    wanted = token(value)
    if wanted.system not in (None, DEVICE_KIND_SYSTEM) or wanted.code not in DeviceKind.values:
        return Q(pk__in=[])
    return Q(kind=wanted.code)


def _manufacturer_q(value: str) -> Q:
    return Q(manufacturer__istartswith=value.strip()) if search_term("manufacturer", value) else Q()


def search(call: Call) -> FhirResult:
    call.actor  # noqa: B018
    query = call.query
    rows = Device.objects.filter(
        ids_q(query)
        & all_of(query, "identifier", _identifier_q)
        & all_of(query, "type", _type_q)
        & all_of(query, "manufacturer", _manufacturer_q)
    ).order_by(*ordering(query, SORT_FIELDS, ("manufacturer", "model_number", "pk")))
    found, total = page(rows, query)
    return searchset(call, [Match(device(d)) for d in found], total)


def create(call: Call) -> FhirResult:
    data = load_json(call.request.body)
    new, warnings = device_from_fhir(data, parse(FhirDevice, data))
    try:
        made, is_new = actions.register_device(call.actor, new)
    except actions.ReadingRefused as error:
        path = "Device.identifier" if error.element == "identifier" else "Device.type"
        raise FhirError(
            422, [Issue(error.message, code="business-rule", expression=(path,))]
        ) from None
    except DeviceNotAllowed:
        raise FhirError(403) from None
    resource = device(made)
    location = f"{call.request.base_url}/Device/{made.uuid}"
    if is_new:
        return created(call, resource, warnings, location)
    message = _("This device is known already by its system id: %(reference)s.") % {
        "reference": f"Device/{made.uuid}"
    }
    return answer(call, resource, warnings, 200, message, {"Location": location})


ROUTES = (
    Route(Interaction.READ, read, "Device", documentation="Any signed-in caller."),
    Route(
        Interaction.SEARCH_TYPE,
        search,
        "Device",
        SEARCH_PARAMS,
        documentation="Any signed-in caller; devices hold no patient data.",
    ),
    Route(
        Interaction.CREATE,
        create,
        "Device",
        documentation=(
            "By the measuring professions. A device whose system id (EUI-64) is known already "
            "is answered as it is (200), never created twice."
        ),
    ),
)
