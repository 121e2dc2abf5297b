"""After the assisted act: the debrief, the orientation proposed and the patient's choice.

Through the actions, the policy and the pages (no browser): who may open
the debrief, the conclusion once closed, a proposal accepted and booked, a
slot taken meanwhile, a refusal recorded, the prescription and the summary.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from maillage.acts import actions as acts
from maillage.acts import defaults
from maillage.acts.actions import ReportContent
from maillage.acts.models import Orientation
from maillage.agenda import actions as agenda
from maillage.agenda.models import Appointment, Modality, Slot, SlotStatus
from maillage.assisted import orientation
from maillage.assisted.models import ActCode, Assistance, Choice, OrientationProposal
from maillage.assisted.tests.conftest import AssistedAct
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.directory.models import StructureKind
from maillage.directory.terminology import Profession
from maillage.policy import orientation as policy
from maillage.policy.teleconsult import Change, ConsultationNotFound, Seat, Visitor
from maillage.teleconsult.actions import create_consultation
from maillage.teleconsult.models import Participant, ParticipantRole, Status
from maillage.teleconsult.tests.conftest import private_files  # noqa: F401 (fixture)
from maillage.teleconsult.tests.test_pages import client_for
from maillage.testing import factories as f
from maillage.testing.agendas import Agendas, agendas  # noqa: F401 (fixture)
from maillage.testing.pdf import pdf_text

pytestmark = pytest.mark.django_db

CONTENT = ReportContent(
    reason="Essoufflement à l'effort",
    observations="Tension 150/95, SpO2 96 %.",
    conclusion="Hypertension à confirmer; pas de signe de gravité.",
    prescriptions="Automesure tensionnelle 3 jours.",
    follow_up="Revoir le médecin traitant avec les mesures.",
    orientation=Orientation.TREATING_DOCTOR,
)


def close_report(personas: Any, act: AssistedAct) -> None:
    defaults.ensure_now()
    acts.close(personas.treating_doctor.user, act.consultation.uuid, CONTENT)


@pytest.fixture
def held(personas: Any, act: AssistedAct, agendas: Agendas, private_files: None) -> AssistedAct:  # noqa: F811
    """The assisted act over, its report closed by the médecin traitant."""
    close_report(personas, act)
    act.consultation.refresh_from_db()
    return act


def nurse_change(act: AssistedAct, step: str = "orientation_propose") -> tuple[Seat, Change]:
    return policy.debrief_for_change(act.nurse_visitor, act.consultation.uuid, step=step)


def propose(
    act: AssistedAct, slot: Slot, modality: str = Modality.IN_PERSON
) -> OrientationProposal:
    return orientation.propose(*nurse_change(act), slot.uuid, modality)


def accept(act: AssistedAct, proposal: OrientationProposal) -> OrientationProposal:
    return orientation.accept(*nurse_change(act, "orientation_accepted"), proposal.uuid)


def refuse(act: AssistedAct, proposal: OrientationProposal, reason: str) -> OrientationProposal:
    return orientation.refuse(*nurse_change(act, "orientation_refused"), proposal.uuid, reason)


def page(user: Any, act: AssistedAct, path: str = "") -> Any:
    return client_for(user).get(f"/teleconsultation/{act.consultation.uuid}/bilan/{path}")


# --- Who may open the debrief ---------------------------------------------------------------


def test_it_shows_the_conclusion_once_the_report_is_closed(personas, act, private_files) -> None:  # noqa: F811
    nurse = personas.nurse.user
    before = page(nurse, act)
    assert before.status_code == 200
    assert "Le médecin n'a pas encore clos le compte rendu" in before.content.decode()
    assert page(nurse, act, "etat/").status_code == 204
    close_report(personas, act)
    reload = page(nurse, act, "etat/")
    assert reload.status_code == 200 and reload["HX-Refresh"] == "true"
    after = page(nurse, act).content.decode()
    assert CONTENT.conclusion.replace("'", "&#x27;") in after
    assert "Imprimer l'ordonnance (PDF)" in after
    assert "<dd>Suivi par le médecin traitant</dd>" in after
    entries = AuditEntry.objects.filter(
        actor=nurse, action=Action.TELECONSULT_READ, detail__step="debrief"
    )
    assert entries.count() == 2
    assert {e.outcome for e in entries} == {Outcome.GRANTED}


def other_assisted_act(personas: Any) -> Participant:
    """A pharmacist assisting another patient's act (her own seat, not this one)."""
    pharmacy = f.structure("Pharmacie de la Place", StructureKind.PHARMACY, "18242")
    pharmacist = f.professional(
        "pharmacienne", last_name="Petit", profession=Profession.PHARMACIST, structures=(pharmacy,)
    )
    other = f.patient("BERNARD", "Jeanne", commune=f.commune("18242"))
    other_act = create_consultation(other, personas.cardiologist, by=personas.cardiologist.user)
    place = Participant.objects.create(
        consultation=other_act,
        user=pharmacist.user,
        display_name=pharmacist.display_name,
        role=ParticipantRole.ASSISTANT,
    )
    Assistance.objects.create(
        participant=place, professional=pharmacist, act_code=ActCode.PHARMACIST, place=pharmacy
    )
    return place


@pytest.mark.parametrize("who", ["patient", "stranger", "other_assistant"])
def test_only_the_act_s_doctor_and_assistant_open_it(personas, held, who) -> None:
    user = {
        "patient": lambda: personas.patient_user,
        "stranger": lambda: personas.cardiologist.user,
        "other_assistant": lambda: other_assisted_act(personas).user,
    }[who]()
    for path in ("", "etat/", "ordonnance/", "resume/"):
        assert page(user, held, path).status_code == 404
    client = client_for(user)
    slot = Slot.objects.filter(status=SlotStatus.FREE).order_by("start").first()
    assert slot is not None
    posted = client.post(
        f"/teleconsultation/{held.consultation.uuid}/bilan/proposer/",
        {"slot": str(slot.uuid), "modality": Modality.IN_PERSON},
    )
    assert posted.status_code == 404
    assert not OrientationProposal.objects.exists()
    refused = AuditEntry.objects.filter(actor=user, outcome=Outcome.DENIED)
    assert refused.count() == 5
    assert all(e.patient_id == personas.patient.pk for e in refused)
    with pytest.raises(ConsultationNotFound):
        policy.debrief_seat(Visitor(user=user), held.consultation.uuid)


def test_the_doctor_opens_it_too(personas, held) -> None:
    response = page(personas.treating_doctor.user, held)
    assert response.status_code == 200
    assert "Ce que le médecin a conclu" in response.content.decode()


# --- Orientation: proposed, the patient's choice recorded ----------------------------------


def test_a_proposal_accepted_is_booked_on_the_patient_s_behalf(personas, held, agendas) -> None:  # noqa: F811
    slot = agendas.free(agendas.gp)
    proposal = propose(held, slot)
    assert proposal.choice == Choice.PENDING and proposal.professional == personas.treating_doctor
    assert proposal.distance_km == 0 and proposal.proposed_start == slot.start
    assert not Appointment.objects.exists()
    done = accept(held, proposal)
    appointment = Appointment.objects.get()
    assert done.choice == Choice.ACCEPTED and done.appointment == appointment
    assert done.recorded_by == personas.nurse.user and done.decided_at is not None
    assert (appointment.patient, appointment.professional) == (
        personas.patient,
        personas.treating_doctor,
    )
    assert appointment.booked_by == personas.nurse.user and appointment.slot == slot
    booked = AuditEntry.objects.get(action=Action.APPOINTMENT_BOOK)
    assert booked.outcome == Outcome.GRANTED and booked.actor == personas.nurse.user
    assert booked.detail["on_behalf_of"] == "patient"
    assert booked.detail["orientation"] == str(proposal.uuid)
    recorded = AuditEntry.objects.get(
        action=Action.TELECONSULT_WRITE, detail__step="orientation_accepted"
    )
    assert recorded.detail["choice"] == "accepted"
    assert recorded.detail["appointment"] == str(appointment.uuid)


def test_a_slot_taken_meanwhile_says_so_and_keeps_the_choice_pending(
    personas,
    held,
    agendas,  # noqa: F811
) -> None:
    slot = agendas.free(agendas.gp)
    proposal = propose(held, slot)
    # The MSP's secretary books that slot for someone else first.
    other = f.patient("MARTIN", "Paul", sex="M", followed_by=(personas.msp,))
    agenda.book(
        personas.coordinator,
        agenda.Booking(slot.uuid, other.uuid, Modality.IN_PERSON, "Renouvellement"),
    )
    with pytest.raises(orientation.OrientationRefused) as refused:
        accept(held, proposal)
    assert "vient d'être réservé" in refused.value.message
    assert "pas encore enregistrée" in refused.value.message
    proposal.refresh_from_db()
    assert proposal.choice == Choice.PENDING and proposal.appointment is None
    assert not Appointment.objects.filter(patient=personas.patient).exists()
    failed = AuditEntry.objects.filter(actor=personas.nurse.user, outcome=Outcome.FAILED)
    assert {(e.action, e.detail["failure"]) for e in failed} == {
        (Action.APPOINTMENT_BOOK, "slot_taken"),
        (Action.TELECONSULT_WRITE, "slot_taken"),
    }
    # Proposing the same professional again changes the slot of the same proposal.
    again = propose(held, agendas.free(agendas.gp))
    assert again.pk == proposal.pk and again.proposed_start > slot.start
    assert accept(held, again).choice == Choice.ACCEPTED


def test_a_refusal_is_recorded_with_her_reason(personas, held, agendas) -> None:  # noqa: F811
    proposal = propose(held, agendas.free(agendas.cardiology), Modality.REMOTE)
    assert proposal.modality == Modality.REMOTE
    done = refuse(held, proposal, "  Préfère attendre les résultats  ")
    assert done.choice == Choice.REFUSED and done.reason == "Préfère attendre les résultats"
    assert done.recorded_by == personas.nurse.user and done.appointment is None
    assert not Appointment.objects.exists()
    entry = AuditEntry.objects.get(
        action=Action.TELECONSULT_WRITE, detail__step="orientation_refused"
    )
    # The entry says a reason was given, never the words (they are the patient's).
    assert entry.detail["reason_given"] is True and "Préfère" not in str(entry.detail)
    with pytest.raises(orientation.OrientationRefused) as twice:
        accept(held, proposal)
    assert twice.value.message == "La réponse du patient est déjà enregistrée."


def test_a_reason_too_long_is_refused_in_french(personas, held, agendas) -> None:  # noqa: F811
    proposal = propose(held, agendas.free(agendas.cardiology), Modality.REMOTE)
    response = client_for(personas.nurse.user).post(
        f"/teleconsultation/{held.consultation.uuid}/bilan/propositions/{proposal.uuid}/",
        {"choice": "refused", "reason": "x" * 301},
        follow=True,
    )
    assert "Le motif est trop long (300 caractères au plus)." in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.choice == Choice.PENDING


def test_a_pharmacist_of_another_place_books_by_her_place_in_the_act(
    personas,
    held,
    agendas,  # noqa: F811
) -> None:
    """No structure of hers follows the patient: the act is her relation (its basis audited)."""
    place = other_assisted_act(personas)
    Participant.objects.filter(pk=place.pk).update(consultation=held.consultation)
    visitor = Visitor(user=place.user)
    seat, change = policy.debrief_for_change(visitor, held.consultation.uuid, step="p")
    proposal = orientation.propose(seat, change, agendas.free(agendas.gp).uuid, Modality.IN_PERSON)
    seat, change = policy.debrief_for_change(visitor, held.consultation.uuid, step="a")
    assert orientation.accept(seat, change, proposal.uuid).choice == Choice.ACCEPTED
    booked = AuditEntry.objects.get(action=Action.APPOINTMENT_BOOK)
    assert booked.basis == "teleconsultation" and booked.detail["on_behalf_of"] == "patient"


def test_an_act_not_held_has_no_orientation(personas, act, agendas) -> None:  # noqa: F811
    type(act.consultation).objects.filter(pk=act.consultation.pk).update(
        status=Status.PLANNED, started_at=None
    )
    with pytest.raises(orientation.OrientationRefused):
        propose(act, agendas.free(agendas.gp))
    assert not OrientationProposal.objects.exists()


# --- The page, the prescription, the summary, the doctor's line ------------------------------


def test_the_page_offers_the_treating_doctor_first_with_distance(personas, held, agendas) -> None:  # noqa: F811
    text = page(personas.nurse.user, held).content.decode()
    assert "Professionnels du territoire" in text
    assert "son médecin traitant" in text and "0 km" in text
    assert "Distances depuis la commune du patient : Sancoins." in text


def test_the_pages_propose_accept_and_refuse(personas, held, agendas) -> None:  # noqa: F811
    client = client_for(personas.nurse.user)
    base = f"/teleconsultation/{held.consultation.uuid}/bilan/"
    gp_slot = agendas.free(agendas.gp)
    proposed = client.post(
        base + "proposer/",
        {"slot": str(gp_slot.uuid), "modality": "in_person", "specialty": "SM54", "radius": "50"},
    )
    assert proposed.status_code == 302 and "specialty=SM54" in proposed["Location"]
    proposal = OrientationProposal.objects.get()
    accepted = client.post(f"{base}propositions/{proposal.uuid}/", {"choice": "accepted"})
    assert accepted.status_code == 302
    shown = client.get(base).content.decode()
    assert "Le patient a accepté : rendez-vous réservé avec Dr Claire Morel" in shown
    assert "acceptée" in shown
    bad = client.post(base + "proposer/", {"slot": "pas-un-uuid", "modality": "in_person"})
    assert bad.status_code == 302
    assert "Choisissez un créneau à proposer." in client.get(base).content.decode()


def test_the_prescription_is_served_and_its_reading_audited(personas, held) -> None:
    response = page(personas.nurse.user, held, "ordonnance/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    entry = AuditEntry.objects.get(detail__step="debrief_prescription")
    assert entry.outcome == Outcome.GRANTED and entry.actor == personas.nurse.user
    assert entry.detail["type"] == "prescription" and entry.detail["document"]


def test_the_summary_lists_both_choices_and_the_contacts(personas, held, agendas) -> None:  # noqa: F811
    accept(held, propose(held, agendas.free(agendas.gp)))
    refuse(held, propose(held, agendas.free(agendas.cardiology), Modality.REMOTE), "Trop loin")
    response = page(personas.nurse.user, held, "resume/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    # The PDF the patient takes home, read back as she would read it.
    text = " ".join(pdf_text(response.content).split())
    assert " ".join(CONTENT.conclusion.split()) in text
    assert " ".join(CONTENT.prescriptions.split()) in text
    assert "Dr Claire Morel" in text and "acceptée — rendez-vous le" in text
    assert "Dr Hugo Lefèvre" in text and "refusée (Trop loin)" in text
    assert "Unité mobile du Boischaut" in text and "SAMU : appelez le 15" in text


def test_the_doctor_sees_the_choices_on_the_report_page(personas, held, agendas) -> None:  # noqa: F811
    accepted = accept(held, propose(held, agendas.free(agendas.gp)))
    refuse(held, propose(held, agendas.free(agendas.cardiology), Modality.REMOTE), "")
    text = (
        client_for(personas.treating_doctor.user)
        .get(f"/actes/{held.consultation.uuid}/compte-rendu/")
        .content.decode()
    )
    assert accepted.appointment is not None
    when = timezone.localtime(accepted.appointment.start).strftime("%d/%m/%Y %H:%M")
    assert "Orientation proposée" in text
    assert f"Dr Claire Morel — acceptée, RDV le {when}" in text
    assert "Dr Hugo Lefèvre — refusée" in text


def test_the_assistant_s_list_names_her_acts(personas, held) -> None:
    text = client_for(personas.nurse.user).get("/teleconsultation/apres-l-appel/").content.decode()
    assert "Micheline" in text and f"/teleconsultation/{held.consultation.uuid}/bilan/" in text
    assert (
        client_for(personas.patient_user).get("/teleconsultation/apres-l-appel/").status_code == 403
    )
    assert held.consultation.status == Status.FINISHED
    assert held.consultation.ended_at is not None
    assert held.consultation.ended_at <= timezone.now() + dt.timedelta(seconds=1)


def test_the_ended_room_and_the_home_page_lead_the_assistant_to_it(personas, held) -> None:
    client = client_for(personas.nurse.user)
    room = client.get(f"/teleconsultation/{held.consultation.uuid}/").content.decode()
    assert f'href="/teleconsultation/{held.consultation.uuid}/bilan/"' in room
    assert "Faire le point avec le patient et l'orienter" in room
    home = client.get("/").content.decode()
    assert 'href="/teleconsultation/apres-l-appel/"' in home
    doctor_room = client_for(personas.treating_doctor.user).get(
        f"/teleconsultation/{held.consultation.uuid}/"
    )
    assert "/bilan/" not in doctor_room.content.decode()


def test_the_page_s_queries_do_not_grow_with_the_proposals(personas, held, agendas) -> None:  # noqa: F811
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(personas.nurse.user)
    url = f"/teleconsultation/{held.consultation.uuid}/bilan/"
    accept(held, propose(held, agendas.free(agendas.gp)))
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    refuse(held, propose(held, agendas.free(agendas.cardiology), Modality.REMOTE), "")
    with CaptureQueriesContext(connection) as two:
        assert client.get(url).status_code == 200
    assert len(two) == len(one), [q["sql"] for q in two.captured_queries]
