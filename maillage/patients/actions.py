"""The only writers of patient identities. Each passes the gate and is audited."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from maillage.audit.actions import Event, record
from maillage.audit.models import Action, Outcome
from maillage.directory.queries import structures_of
from maillage.patients import versions
from maillage.patients.details import PatientDetails, details_of
from maillage.patients.identity import (
    IDENTITY_FIELDS,
    IdentityInput,
    IdentityProblem,
    identity_problems,
)
from maillage.patients.models import (
    Patient,
    PatientAddress,
    PatientContact,
    PatientIdentifier,
    PatientLanguage,
    PatientTelecom,
    PatientVersion,
)
from maillage.policy.gate import (
    PatientNotFound,
    authorize,
    load_patient,
    require_can_create,
)
from maillage.policy.relations import IdentityEvidence, Relation

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.directory.models import Structure


class InvalidIdentity(Exception):
    def __init__(self, problems: list[IdentityProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


class DuplicateIdentity(Exception):
    """Another record holds this identity. ``same_matricule`` cannot be overridden."""

    def __init__(self, candidates: list[Patient], *, same_matricule: bool) -> None:
        super().__init__("duplicate identity")
        self.candidates = candidates
        self.same_matricule = same_matricule


def find_duplicates(
    evidence: IdentityEvidence, *, exclude: Patient | None = None
) -> tuple[list[Patient], bool]:
    """Records with the same matricule INS, or else the same strict traits."""
    others = Patient.objects.exclude(pk=exclude.pk) if exclude else Patient.objects.all()
    if evidence.matricule:
        same = list(others.filter(ins_matricule=evidence.matricule))
        if same:
            return same, True
    return list(others.filter(match_key=evidence.match_key).order_by("pk")[:5]), False


def _check(data: IdentityInput) -> None:
    problems = identity_problems(data)
    if problems:
        raise InvalidIdentity(problems)


def create_patient(
    actor: User,
    data: IdentityInput,
    *,
    confirmed_distinct: bool = False,
    not_kept: Sequence[str] = (),
) -> Patient:
    """Create an identity, followed by the actor's structures.

    A record with the same matricule always blocks; one with the same strict
    traits blocks unless the actor confirmed that this is another person
    (homonyms born the same day exist), which the audit entry keeps.
    ``not_kept`` names (FHIRPaths, no values) what a client sent that the
    record does not hold, for the audit entry.
    """
    require_can_create(actor)
    _check(data)
    candidates, same_matricule = find_duplicates(data.evidence())
    if candidates and (same_matricule or not confirmed_distinct):
        raise DuplicateIdentity(candidates, same_matricule=same_matricule)
    try:
        with transaction.atomic():
            patient = Patient.objects.create(**data.as_model_fields())
            if data.details is not None:
                _store_details(patient, data.details)
            patient.followed_by.set(structures_of(actor))
            record(
                actor,
                Event(
                    action=Action.PATIENT_CREATE,
                    patient=patient,
                    basis=Relation.CREATOR,
                    detail={
                        "confirmed_distinct_from": [str(c.uuid) for c in candidates],
                        **({"not_kept": list(not_kept)} if not_kept else {}),
                    },
                ),
            )
    except IntegrityError:
        # Two people registered the same matricule at the same moment.
        candidates, _ = find_duplicates(data.evidence())
        raise DuplicateIdentity(candidates, same_matricule=True) from None
    return patient


class StaleVersion(Exception):
    """The identity changed since the version the caller read (If-Match)."""

    def __init__(self, current: int) -> None:
        super().__init__(f"identity now at version {current}")
        self.current = current


# A new identity as a function of the current one, and the paths of what
# was received and not kept: a client that was shown a version of the
# record (the FHIR API) says what changes from it.
Change = Callable[[Patient], tuple[IdentityInput, Sequence[str]]]


def update_patient(
    actor: User,
    patient_uuid: object,
    data: IdentityInput | Change,
    *,
    expected_version: int | None = None,
    not_kept: Sequence[str] = (),
) -> Patient:
    """Change an identity; the audit entry names the fields changed, never their values.

    ``data.details`` None (a page) leaves the kept details as they are, but
    for the address, phone or email a page changed; given (FHIR), they are
    replaced. ``not_kept`` as for ``create_patient``.

    Each change makes a new version: the one it replaces is kept as a
    PatientVersion, in the same transaction. With ``expected_version`` (a
    client's If-Match), a change made on another version fails with
    StaleVersion, under the row's lock, so that two changes of the same
    version cannot both win. ``data`` may be a function of the current
    identity, called only once the policy allowed the change.
    """
    patient = load_patient(patient_uuid)
    if patient is None:
        # A guessed id is audited too (on nobody: there is no such patient).
        record(
            actor,
            Event(
                action=Action.PATIENT_UPDATE,
                outcome=Outcome.DENIED,
                detail={"unknown_id": str(patient_uuid)[:64]},
            ),
        )
        raise PatientNotFound
    given = data if isinstance(data, IdentityInput) else None
    grant = authorize(
        actor,
        patient,
        Action.PATIENT_UPDATE,
        detail={
            **({"fields": _changes(patient, given)} if given is not None else {}),
            **({"not_kept": list(not_kept)} if not_kept else {}),
        },
    )
    if expected_version is not None and patient.version != expected_version:
        grant.failed("stale_version", version=patient.version)
        raise StaleVersion(patient.version)
    try:
        with transaction.atomic():
            written = _write_version(actor, patient, data, expected_version)
            if written is not None:
                grant.done(
                    fields=written.fields,
                    version=written.patient.version,
                    **({"not_kept": list(written.not_kept)} if written.not_kept else {}),
                )
    # Each closed after the transaction, which wrote nothing.
    except StaleVersion as stale:
        grant.failed("stale_version", version=stale.current)
        raise
    except DuplicateIdentity:
        grant.failed("duplicate_matricule")
        raise
    except IntegrityError:
        # Two changes gave the same matricule at the same moment.
        grant.failed("duplicate_matricule")
        candidates = (
            find_duplicates(data.evidence(), exclude=patient)[0]
            if isinstance(data, IdentityInput)
            else []
        )
        raise DuplicateIdentity(candidates, same_matricule=True) from None
    except Exception:
        # Whatever made the new identity unusable (a rule here, or the
        # caller's own reading of it): nothing was changed.
        grant.failed("invalid_identity")
        raise
    if written is None:
        grant.failed("no_change")
        return patient
    return written.patient


@dataclass(frozen=True)
class _Written:
    patient: Patient
    fields: list[str]
    not_kept: Sequence[str]


def _changed_fields(patient: Patient, data: IdentityInput) -> list[str]:
    return [name for name in IDENTITY_FIELDS if getattr(patient, name) != getattr(data, name)]


def _details_changed(patient: Patient, data: IdentityInput) -> bool:
    return data.details is not None and data.details != details_of(patient)


def _changes(patient: Patient, data: IdentityInput) -> list[str]:
    """The fields a change names in its audit entry ("details" for the kept details)."""
    details = ["details"] if _details_changed(patient, data) else []
    return [*_changed_fields(patient, data), *details]


def _apply(change: IdentityInput | Change, patient: Patient) -> tuple[IdentityInput, Sequence[str]]:
    return (change, ()) if isinstance(change, IdentityInput) else change(patient)


def _write_version(
    actor: User, patient: Patient, data: IdentityInput | Change, expected_version: int | None
) -> _Written | None:
    """The new version, decided and written on the locked row; None when nothing changed.

    A change given as a function of the identity is applied to the locked
    row, so that a change made meanwhile is never written back over.
    """
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion(locked.version)
    wanted, not_kept = _apply(data, locked)
    _check(wanted)
    candidates, same_matricule = find_duplicates(wanted.evidence(), exclude=locked)
    if same_matricule:
        raise DuplicateIdentity(candidates, same_matricule=True)
    fields = _changes(locked, wanted)
    if not fields:
        return None
    changed = _changed_fields(locked, wanted)
    earlier = versions.snapshot(locked, details_of(locked))
    written_at = locked.updated_at
    for name in changed:
        setattr(locked, name, getattr(wanted, name))
    locked.version += 1
    locked.save(update_fields=[*changed, "match_key", "updated_at", "version"])
    if wanted.details is not None:
        if "details" in fields:
            _store_details(locked, wanted.details)
    else:
        _retire_replaced(locked, changed)
    PatientVersion.objects.create(
        patient=locked,
        version=locked.version - 1,
        identity=earlier,
        written_at=written_at,
        replaced_at=locked.updated_at,
        replaced_by=actor,
    )
    return _Written(locked, fields, not_kept)


def _store_details(patient: Patient, details: PatientDetails) -> None:
    """Replace what the record keeps beyond the identity (inside the caller's transaction)."""
    for model in (PatientIdentifier, PatientAddress, PatientTelecom, PatientContact):
        model.objects.filter(patient=patient).delete()
    PatientLanguage.objects.filter(patient=patient).delete()
    PatientIdentifier.objects.bulk_create(
        PatientIdentifier(
            patient=patient,
            position=position,
            system=i.system,
            value=i.value,
            use=i.use,
            type_system=i.type_system,
            type_code=i.type_code,
            type_display=i.type_display,
            type_text=i.type_text,
        )
        for position, i in enumerate(details.identifiers)
    )
    PatientLanguage.objects.bulk_create(
        PatientLanguage(
            patient=patient,
            position=position,
            system=lang.language.system,
            code=lang.language.code,
            display=lang.language.display,
            text=lang.language.text,
            preferred=lang.preferred,
        )
        for position, lang in enumerate(details.languages)
    )
    contacts = PatientContact.objects.bulk_create(
        PatientContact(
            patient=patient,
            position=position,
            relationship_system=c.relationship.system,
            relationship_code=c.relationship.code,
            relationship_display=c.relationship.display,
            relationship_text=c.relationship.text,
            family=c.family,
            given="\n".join(c.given),
            gender=c.gender,
        )
        for position, c in enumerate(details.contacts)
    )
    # Positions run over all of the patient's rows: hers first, then each contact's.
    owned_addresses = [(None, a) for a in details.addresses] + [
        (row, c.address) for row, c in zip(contacts, details.contacts, strict=True) if c.address
    ]
    owned_telecoms = [(None, t) for t in details.telecoms] + [
        (row, t) for row, c in zip(contacts, details.contacts, strict=True) for t in c.telecoms
    ]
    PatientAddress.objects.bulk_create(
        PatientAddress(
            patient=patient,
            contact=contact,
            position=position,
            use=a.use,
            type=a.type,
            text=a.text,
            lines="\n".join(a.lines),
            city=a.city,
            district=a.district,
            state=a.state,
            postal_code=a.postal_code,
            country=a.country,
            commune=a.commune,
            main=a.main,
        )
        for position, (contact, a) in enumerate(owned_addresses)
    )
    PatientTelecom.objects.bulk_create(
        PatientTelecom(
            patient=patient,
            contact=contact,
            position=position,
            system=t.system,
            value=t.value,
            use=t.use,
            rank=t.rank,
            main=t.main,
        )
        for position, (contact, t) in enumerate(owned_telecoms)
    )
    columns = details.columns()
    for name, value in columns.items():
        setattr(patient, name, value)
    patient.details_kept = details.in_tables
    patient.save(update_fields=[*columns, "details_kept"])
    # The rows read before the write (details_of) are cached on this object,
    # which the caller answers with: the answer must show the new ones.
    patient._prefetched_objects_cache = {}  # type: ignore[attr-defined]


def _retire_replaced(patient: Patient, changed: list[str]) -> None:
    """A page changed the address, phone or email: the received one they came from goes.

    Kept beside the new value, it would be sent back as the patient's
    current address or phone; the audit entry names the fields changed.
    """
    if "address_line" in changed or "commune" in changed:
        PatientAddress.objects.filter(patient=patient, main=True).delete()
    for name in ("phone", "email"):
        if name in changed:
            PatientTelecom.objects.filter(patient=patient, main=True, system=name).delete()


def link_patient(actor: User, patient_uuid: object, evidence: IdentityEvidence) -> Patient:
    """Attach an existing identity to the actor's structures instead of duplicating it.

    The policy asks for the matricule INS with its key (``Relation.INS_PROOF``):
    the strict traits shown on the duplicate page are not proof, anyone who
    knows a person's name and birth date has them. A refusal, an unknown id
    included, is audited and looks like "not found".
    """
    patient = load_patient(patient_uuid)
    if patient is None:
        # A guessed id is audited too (on nobody: there is no such patient).
        record(
            actor,
            Event(
                action=Action.PATIENT_LINK,
                outcome=Outcome.DENIED,
                detail={"unknown_id": str(patient_uuid)[:64]},
            ),
        )
        raise PatientNotFound
    grant = authorize(actor, patient, Action.PATIENT_LINK, evidence=evidence)
    with transaction.atomic():
        structures = list(structures_of(actor).exclude(followed_patients=patient))
        if not structures:
            # Already followed by every structure of the actor (or he has none).
            grant.failed("nothing_to_link")
            return patient
        patient.followed_by.add(*structures)
        grant.done(structures=[str(s.uuid) for s in structures])
    return patient


def unlink_structure(patient_user: User, patient: Patient, structure: Structure) -> bool:
    """The patient stops a structure from following her; True when it did follow her.

    Its members lose what that link gave them (the identity, and the record
    where their role reads it through the structure); a place in the care
    team, or being her médecin traitant, is another relation, kept.
    """
    grant = authorize(
        patient_user, patient, Action.PATIENT_UNLINK, detail={"structure": str(structure.uuid)}
    )
    with transaction.atomic():
        following = patient.followed_by.filter(pk=structure.pk).exists()
        if not following:
            grant.failed("not_following")
            return False
        patient.followed_by.remove(structure)
        grant.done()
    return True
