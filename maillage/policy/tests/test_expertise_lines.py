"""Crossing the lines of a tele-expertise, one attacker at a time.

Each test plays one person who should not get in, or who should no longer
get in, and checks both doors: the request (``policy.expertise``) and the
record it concerns (the gate, where the act's care-team place opens it).
Every refusal must leave one audit entry on the patient naming its rule.
Time beyond the access limit is made by moving the conclusion (and the
care-team place the conclusion limited) back, as the rows would stand then.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db.models import F
from django.utils import timezone

from maillage.accounts.models import User
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.directory.models import Professional
from maillage.directory.terminology import Specialty
from maillage.expertise import actions
from maillage.expertise.models import Pool, Request, Status
from maillage.files.storage import Upload
from maillage.patients.models import Patient
from maillage.policy import gate
from maillage.policy.expertise import (
    RequestNotFound,
    attachment_of,
    open_request,
    participating,
    shared_document,
)
from maillage.records import actions as records
from maillage.records.models import CareTeamMember, Document, DocumentType
from maillage.tasks.models import OutgoingMail
from maillage.testing import factories as f

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nECG de repos\n%%EOF"


@pytest.fixture(autouse=True)
def private_files(settings: Any, tmp_path: Any) -> None:
    settings.MAILLAGE_FILES_DIR = str(tmp_path / "files")
    settings.MAILLAGE_FILE_KEY_FILE = str(tmp_path / "file-keys.json")
    settings.MAILLAGE_FILE_KEYS = ""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@dataclass
class Cardiology:
    pool: Pool
    named: Professional  # the demo cardiologist, answers tele-expertise
    colleague: Professional  # answers tele-expertise
    silent: Professional  # a member who does not answer tele-expertise
    coordinator: Professional  # coordinates, does not answer


@pytest.fixture
def cardiology(personas: Any) -> Cardiology:
    named = personas.cardiologist
    named.accepts_teleexpertise, named.teleexpertise_response_hours = True, 48
    named.save(update_fields=["accepts_teleexpertise", "teleexpertise_response_hours"])
    colleague = f.professional(
        "cardio.deux",
        last_name="Faure",
        specialty=Specialty.CARDIOLOGY,
        accepts_teleexpertise=True,
        teleexpertise_response_hours=72,
    )
    silent = f.professional("cardio.muet", last_name="Lambert", specialty=Specialty.CARDIOLOGY)
    coordinator = f.professional(
        "cardio.coord", last_name="Mercier", specialty=Specialty.CARDIOLOGY
    )
    pool = f.pool(
        "Cardiologie — Cher",
        Specialty.CARDIOLOGY,
        (named, colleague, silent, (coordinator, True)),
    )
    for entry in (named, colleague, silent, coordinator):
        account = _user(entry)
        account.email = f"{account.username}@example.org"  # notices go by e-mail
        account.save(update_fields=["email"])
    return Cardiology(pool, named, colleague, silent, coordinator)


def _user(entry: Professional) -> User:
    assert entry.user is not None
    return entry.user


def _ask(
    requester: User,
    patient: Patient,
    *,
    pool: Pool | None = None,
    specialist: Professional | None = None,
    documents: tuple[Document, ...] = (),
    send: bool = True,
) -> Request:
    draft = actions.save_draft(
        requester,
        patient.uuid,
        actions.Ask(
            question="Souffle systolique 3/6 découvert, dyspnée d'effort. Échographie ?",
            priority="soon",
            pool_uuid=pool.uuid if pool else None,
            specialist_uuid=specialist.uuid if specialist else None,
            document_uuids=[d.uuid for d in documents],
            uploads=[Upload("ecg.pdf", PDF)],
            consent=True,
        ),
    )
    return actions.submit(requester, draft.uuid) if send else draft


def _last(purpose: str, user: User) -> AuditEntry:
    entry = AuditEntry.objects.filter(action=purpose, actor=user).order_by("-seq").first()
    assert entry is not None
    return entry


def _refused(user: User, request: Request, rule: str) -> None:
    """The request is closed to ``user``: it looks missing, and the refusal names ``rule``."""
    with pytest.raises(RequestNotFound):
        open_request(user, request.uuid)
    entry = _last(Action.EXPERTISE_READ, user)
    assert (entry.outcome, entry.patient_id) == (Outcome.DENIED, request.patient_id)
    assert entry.detail["rule"] == rule
    assert entry.detail["request"] == str(request.uuid)


def _record_refused(user: User, patient: Patient, rule: str) -> None:
    with pytest.raises(gate.PatientNotFound):
        gate.open_record(user, patient)
    entry = _last(Action.RECORD_READ, user)
    assert (entry.outcome, entry.detail["rule"]) == (Outcome.DENIED, rule)


def _record_opened_by_the_care_team(user: User, patient: Patient) -> None:
    gate.open_record(user, patient)
    entry = _last(Action.RECORD_READ, user)
    assert (entry.outcome, entry.basis) == (Outcome.GRANTED, "care_team")


def _ended_days_ago(request: Request, days: float) -> None:
    """As the rows stand ``days`` after the conclusion: its time and its place's end move back."""
    request.refresh_from_db()
    place = request.care_team_place
    assert request.concluded_at is not None and place is not None
    back = request.concluded_at - (timezone.now() - dt.timedelta(days=days))
    Request.objects.filter(pk=request.pk).update(concluded_at=F("concluded_at") - back)
    CareTeamMember.objects.filter(pk=place.pk).update(valid_until=F("valid_until") - back)


# --- The named specialist --------------------------------------------------------------


@pytest.mark.django_db
def test_the_named_specialist_before_during_after_and_beyond_the_limit(
    personas: Any, cardiology: Cardiology
) -> None:
    gp, patient = _user(personas.treating_doctor), personas.patient
    cardio = _user(cardiology.named)
    request = _ask(gp, patient, specialist=cardiology.named)

    # Asked, not yet taken: he reads the request, not yet the record.
    assert open_request(cardio, request.uuid).side == "specialist"
    _record_refused(cardio, patient, "relation")
    # Nobody else of his pool takes part in a request named to him.
    _refused(_user(cardiology.colleague), request, "relation")

    actions.claim(cardio, request.uuid)
    _record_opened_by_the_care_team(cardio, patient)
    # The requester may not act as the specialist: refused like a stranger.
    with pytest.raises(RequestNotFound):
        actions.conclude(gp, request.uuid, actions.Conclusion("Rien à signaler."))
    entry = _last(Action.EXPERTISE_WRITE, gp)
    assert (entry.outcome, entry.detail["rule"]) == (Outcome.DENIED, "not_participant")

    actions.conclude(cardio, request.uuid, actions.Conclusion("Échographie en consultation."))
    request.refresh_from_db()
    assert request.status == Status.CONCLUDED and request.opinion is not None
    place = request.care_team_place
    assert place is not None and request.concluded_at is not None
    place.refresh_from_db()
    assert place.valid_until == request.concluded_at + dt.timedelta(
        days=django_settings.MAILLAGE_EXPERTISE_ACCESS_DAYS
    )
    # Concluded, within the limit: he still reads both, writes nothing more.
    open_request(cardio, request.uuid)
    _record_opened_by_the_care_team(cardio, patient)
    with pytest.raises(actions.ExpertiseRuleBroken):
        actions.answer(cardio, request.uuid, "Un dernier mot.")

    _ended_days_ago(request, django_settings.MAILLAGE_EXPERTISE_ACCESS_DAYS - 1)
    open_request(cardio, request.uuid)
    _record_opened_by_the_care_team(cardio, patient)

    # Beyond the limit: the act gives him nothing any more, on either door.
    _ended_days_ago(request, django_settings.MAILLAGE_EXPERTISE_ACCESS_DAYS + 1)
    _refused(cardio, request, "relation")
    _record_refused(cardio, patient, "relation")
    assert not participating(cardio).exists()
    listed = Patient.objects.filter(gate.visible_patients_q(cardio, Action.EXPERTISE_READ))
    assert not listed.exists()
    # The requester always reads her request.
    assert open_request(gp, request.uuid).side == "requester"


# --- The pool ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_pool_members_before_and_after_a_claim(personas: Any, cardiology: Cardiology) -> None:
    gp, patient = _user(personas.treating_doctor), personas.patient
    named, colleague = _user(cardiology.named), _user(cardiology.colleague)
    request = _ask(gp, patient, pool=cardiology.pool)
    attachment = request.attachments.get()

    # Waiting: every answering member takes part; the others do not.
    for member in (named, colleague):
        assert open_request(member, request.uuid).side == "pool"
        attachment_of(member, attachment.file.uuid)
        # Taking part in the request is not a place in her record.
        _record_refused(member, patient, "relation")
    _refused(_user(cardiology.silent), request, "relation")
    _refused(_user(cardiology.coordinator), request, "relation")

    actions.claim(colleague, request.uuid)
    _record_opened_by_the_care_team(colleague, patient)
    # Taken: the other member is out, by every door, and cannot take it over.
    _refused(named, request, "relation")
    with pytest.raises(RequestNotFound):
        attachment_of(named, attachment.file.uuid)
    with pytest.raises(RequestNotFound):
        actions.claim(named, request.uuid)
    entry = _last(Action.EXPERTISE_WRITE, named)
    assert (entry.outcome, entry.detail["rule"]) == (Outcome.DENIED, "relation")
    _record_refused(named, patient, "relation")
    assert not participating(named).exists()


@pytest.mark.django_db
def test_those_outside_the_act(personas: Any, cardiology: Cardiology) -> None:
    """The structure's coordinator, a doctor from elsewhere, the patient, a made-up id."""
    request = _ask(_user(personas.treating_doctor), personas.patient, pool=cardiology.pool)
    # The coordinator of the structure that follows her: her role never reads a request.
    _refused(personas.coordinator, request, "role")
    stranger = _user(f.professional("medecin.inconnu", last_name="Perrin"))
    _refused(stranger, request, "relation")
    # The patient sees the act's opinion among her documents, not the request itself.
    _refused(personas.patient_user, request, "role")
    with pytest.raises(RequestNotFound):
        open_request(stranger, "9d1b5e1e-0000-4000-8000-000000000000")
    entry = _last(Action.EXPERTISE_READ, stranger)
    assert entry.outcome == Outcome.DENIED and entry.patient_id is None
    with pytest.raises(RequestNotFound):
        open_request(stranger, "../../etc/passwd")


# --- What the patient decided -------------------------------------------------------------


@pytest.mark.django_db
def test_the_patient_who_opposed_the_specialist(personas: Any, cardiology: Cardiology) -> None:
    gp, patient = _user(personas.treating_doctor), personas.patient
    cardio = _user(cardiology.named)
    records.oppose_professional(personas.patient_user, patient, cardiology.named)

    # Named: the draft is kept, the sending refused, and the refusal audited naming him.
    draft = _ask(gp, patient, specialist=cardiology.named, send=False)
    with pytest.raises(actions.ExpertiseRuleBroken):
        actions.submit(gp, draft.uuid)
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and draft.question
    entry = _last(Action.EXPERTISE_READ, gp)
    assert entry.outcome == Outcome.DENIED
    assert entry.detail == {"receiver": f"user:{cardio.pk}", "rule": "opposed_professional"}

    # A pool routes around him: the colleague is told, he is not, and cannot get in.
    request = _ask(gp, patient, pool=cardiology.pool)
    assert request.status == Status.WAITING
    told = set(OutgoingMail.objects.values_list("user__username", flat=True))
    assert "cardio.deux" in told and "cardiologue" not in told
    _refused(cardio, request, "opposed_professional")
    with pytest.raises(RequestNotFound):
        actions.claim(cardio, request.uuid)
    # Handing it to him is refused too.
    colleague = _user(cardiology.colleague)
    actions.claim(colleague, request.uuid)
    with pytest.raises(actions.ExpertiseRuleBroken):
        actions.hand_over(colleague, request.uuid, cardiology.named.uuid)
    request.refresh_from_db()
    assert request.assignee == cardiology.colleague


@pytest.mark.django_db
def test_a_document_masked_after_it_was_shared(personas: Any, cardiology: Cardiology) -> None:
    gp, patient = _user(personas.treating_doctor), personas.patient
    cardio = _user(cardiology.named)
    ecg = records.file_document(
        gp,
        patient,
        records.NewDocument(
            type=DocumentType.LAB_RESULTS, title="Bilan lipidique", date=dt.date(2026, 11, 2)
        ),
        uploads=[Upload("bilan.pdf", PDF)],
    )
    request = _ask(gp, patient, specialist=cardiology.named, documents=(ecg,))
    actions.claim(cardio, request.uuid)
    assert open_request(cardio, request.uuid).documents() == [ecg]
    assert shared_document(open_request(cardio, request.uuid), ecg.uuid) == ecg

    records.mask_document(personas.patient_user, ecg)
    # Decided again at each read: gone from the request for the specialist...
    access = open_request(cardio, request.uuid)
    assert access.documents() == []
    with pytest.raises(RequestNotFound):
        shared_document(access, ecg.uuid)
    entry = _last(Action.EXPERTISE_DOCUMENT, cardio)
    assert (entry.outcome, entry.detail["rule"]) == (Outcome.DENIED, "masked")
    assert entry.detail["document"] == str(ecg.uuid)
    # ... and from the record; its author, the médecin traitant, still sees it.
    with pytest.raises(gate.DocumentNotFound):
        gate.get_document(cardio, ecg.uuid)
    assert open_request(gp, request.uuid).documents() == [ecg]


# --- Two requests on one patient ----------------------------------------------------------


@pytest.mark.django_db
def test_a_requester_is_no_participant_of_another_gps_request(
    personas: Any, cardiology: Cardiology
) -> None:
    patient = personas.patient
    gp = _user(personas.treating_doctor)
    # A colleague of the same health centre (the structure follows the patient).
    locum = _user(
        f.professional("medecin.remplacant", last_name="Colin", structures=(personas.msp,))
    )
    theirs = _ask(locum, patient, pool=cardiology.pool)
    # Without a request of her own, the médecin traitant has no tele-expertise relation.
    _refused(gp, theirs, "relation")

    mine = _ask(gp, patient, specialist=cardiology.named)
    # Now she has the relation with the patient, through her own request only.
    assert open_request(gp, mine.uuid).side == "requester"
    _refused(gp, theirs, "not_participant")
    for change in (
        lambda: actions.reply(gp, theirs.uuid, "Je complète."),
        lambda: actions.cancel(gp, theirs.uuid),
    ):
        with pytest.raises(RequestNotFound):
            change()
        entry = _last(Action.EXPERTISE_WRITE, gp)
        assert (entry.outcome, entry.detail["rule"]) == (Outcome.DENIED, "not_participant")
    with pytest.raises(RequestNotFound):
        attachment_of(gp, theirs.attachments.get().file.uuid)
    theirs.refresh_from_db()
    assert theirs.status == Status.WAITING
    # And the named specialist of her request is no participant of the locum's pool one...
    # he is a member of that pool, so before a claim he is; after, not.
    actions.claim(_user(cardiology.colleague), theirs.uuid)
    _refused(_user(cardiology.named), theirs, "not_participant")


@pytest.mark.django_db
def test_a_pool_member_whose_directory_entry_closed(personas: Any, cardiology: Cardiology) -> None:
    """The request never reached him (routing asks an active entry): the policy agrees."""
    request = _ask(_user(personas.treating_doctor), personas.patient, pool=cardiology.pool)
    Professional.objects.filter(pk=cardiology.colleague.pk).update(active=False)
    _refused(_user(cardiology.colleague), request, "relation")
    assert open_request(_user(cardiology.named), request.uuid).side == "pool"


@pytest.mark.django_db
def test_a_dropped_draft_never_reaches_its_named_specialist(
    personas: Any, cardiology: Cardiology
) -> None:
    """A draft named to him and dropped by the requester was never sent: nothing opens it."""
    gp, cardio = _user(personas.treating_doctor), _user(cardiology.named)
    draft = _ask(gp, personas.patient, specialist=cardiology.named, send=False)
    _refused(cardio, draft, "relation")
    actions.cancel(gp, draft.uuid)
    draft.refresh_from_db()
    assert draft.status == Status.CANCELLED and draft.submitted_at is None
    _refused(cardio, draft, "relation")
    with pytest.raises(RequestNotFound):
        attachment_of(cardio, draft.attachments.get().file.uuid)
    assert not participating(cardio).exists()
