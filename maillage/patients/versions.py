"""An identity's earlier versions: what a PatientVersion keeps, and the identity it gives back.

The snapshot is JSON in the domain's words: each identity field by name
(dates in ISO form, a related row by its key) and the details kept beyond
the identity (maillage.patients.details) as plain values. No Django query
decides anything here: the policy opened the patient before any version is
read (maillage.patients.queries).
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from typing import Any, Union, get_args, get_origin, get_type_hints

from django.db import models

from maillage.directory.models import Structure
from maillage.patients.details import PatientDetails
from maillage.patients.identity import IDENTITY_FIELDS
from maillage.patients.models import Patient, PatientVersion
from maillage.territory.models import Commune

DETAILS = "details"


def _field(name: str) -> models.Field[Any, Any]:
    field = Patient._meta.get_field(name)
    assert isinstance(field, models.Field), name  # a column, not a reverse relation
    return field


def snapshot(patient: Patient, details: PatientDetails) -> dict[str, Any]:
    """The identity of ``patient`` and its details as JSON values."""
    kept: dict[str, Any] = {}
    for name in IDENTITY_FIELDS:
        value = getattr(patient, _field(name).attname)
        kept[name] = value.isoformat() if hasattr(value, "isoformat") else value
    kept[DETAILS] = _dump(details)
    return kept


def _dump(value: Any) -> Any:
    """A details value as JSON: dataclasses by field, tuples as lists, rows by key."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _dump(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_dump(item) for item in value]
    if isinstance(value, models.Model):
        return value.pk
    return value


# Names the details' annotations use for rows of other apps (imported there
# for type checking only).
_ROWS: dict[str, Any] = {"Commune": Commune, "Structure": Structure}


def _load(kind: Any, value: Any) -> Any:
    """The inverse of ``_dump`` for a value of type ``kind``."""
    if value is None:
        return None
    if get_origin(kind) in (Union, types.UnionType):
        (inner,) = [arg for arg in get_args(kind) if arg is not type(None)]
        return _load(inner, value)
    if get_origin(kind) is tuple:
        return tuple(_load(get_args(kind)[0], item) for item in value)
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        hints = get_type_hints(kind, localns=_ROWS)
        return kind(**{name: _load(hints[name], v) for name, v in value.items() if name in hints})
    if isinstance(kind, type) and issubclass(kind, models.Model):
        return kind._default_manager.filter(pk=value).first()
    return value


def as_it_was_details(kept: Mapping[str, Any]) -> PatientDetails:
    """The details a snapshot kept."""
    return _details(kept.get(DETAILS))


def _details(kept: Mapping[str, Any] | None) -> PatientDetails:
    if not kept:
        return PatientDetails()
    details: PatientDetails = _load(PatientDetails, kept)
    return details


def as_it_was(earlier: PatientVersion, current: Patient) -> tuple[Patient, PatientDetails]:
    """The identity at an earlier version (an unsaved Patient, never saved) and its details."""
    patient = Patient(
        pk=current.pk,
        uuid=current.uuid,
        created_at=current.created_at,
        updated_at=earlier.written_at,
        version=earlier.version,
    )
    for name, value in earlier.identity.items():
        if name != DETAILS:
            field = _field(name)
            setattr(patient, field.attname, field.to_python(value))
    return patient, _details(earlier.identity.get(DETAILS))
