"""The ICE endpoint hands TURN credentials to the act's seated participants only, audited."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from maillage.accounts.models import User
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.conftest import Personas
from maillage.policy.teleconsult import Visitor, seat_for_change, take_seat
from maillage.rtc.config import client_config
from maillage.teleconsult import actions
from maillage.teleconsult.models import Consultation, ParticipantRole


@pytest.fixture
def turn(settings: Any) -> None:
    settings.MAILLAGE_STUN_URLS = "stun:stun.example.fr:3478"
    settings.MAILLAGE_TURN_URLS = "turn:turn.example.fr:3478?transport=udp"
    settings.MAILLAGE_TURN_SECRET = "test-secret"


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    if user.needs_second_factor:
        device = TOTPDevice.objects.create(user=user, name="Maillage", confirmed=True)
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client


def url(consultation: Consultation | uuid.UUID) -> str:
    key = consultation.uuid if isinstance(consultation, Consultation) else consultation
    return f"/visio-reseau/{key}/ice.json"


@pytest.fixture
def act(personas: Personas) -> Consultation:
    return actions.open_consultation(
        personas.user("treating_doctor"), personas.patient, personas.treating_doctor
    )


def admit_patient(personas: Personas, act: Consultation) -> None:
    actions.arrive(take_seat(Visitor(user=personas.patient_user), act.uuid))
    seat, change = seat_for_change(
        Visitor(user=personas.user("treating_doctor")), act.uuid, doctor_only=True
    )
    patient = act.participants.get(role=ParticipantRole.PATIENT)
    actions.admit(seat, change, patient.uuid)


def test_it_builds_a_participants_configuration(turn: None) -> None:
    config = client_config("9b1c")
    stun, relay = config["iceServers"]
    assert stun == {"urls": ["stun:stun.example.fr:3478"]}
    assert relay["username"].endswith(":9b1c")
    assert config["iceTransportPolicy"] == "all"
    assert config["videoMaxKbps"] == 250


def test_it_gives_the_seated_participants_a_pair_each(
    turn: None, client: Client, personas: Personas, act: Consultation
) -> None:
    admit_patient(personas, act)
    places = {p.role: str(p.uuid) for p in act.participants.all()}
    for user, role in (
        (personas.patient_user, ParticipantRole.PATIENT),
        (personas.user("treating_doctor"), ParticipantRole.DOCTOR),
    ):
        browser = signed_in(Client(), user)
        before = AuditEntry.objects.count()
        response = browser.get(url(act))
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store, private"
        relay = response.json()["iceServers"][1]
        # The TURN user name carries the participant's opaque id, never a name.
        assert relay["username"].split(":")[1] == places[role]
        entry = AuditEntry.objects.order_by("-pk").first()
        assert AuditEntry.objects.count() == before + 1
        assert entry is not None
        assert (entry.action, entry.outcome) == (Action.TELECONSULT_SIGNAL, Outcome.GRANTED)


def test_it_refuses_a_participant_not_admitted_yet(
    turn: None, personas: Personas, act: Consultation
) -> None:
    actions.arrive(take_seat(Visitor(user=personas.patient_user), act.uuid))
    response = signed_in(Client(), personas.patient_user).get(url(act))
    assert response.status_code == 404
    assert b"turn:" not in response.content
    entry = AuditEntry.objects.order_by("-pk").first()
    assert entry is not None and entry.outcome == Outcome.DENIED


def test_it_refuses_a_stranger_anonymous_and_an_unknown_act(
    turn: None, client: Client, personas: Personas, act: Consultation
) -> None:
    admit_patient(personas, act)
    anonymous = client.get(url(act))
    assert anonymous.status_code == 404
    assert b"turn:" not in anonymous.content
    stranger = signed_in(Client(), personas.user("cardiologist")).get(url(act))
    assert stranger.status_code == 404
    assert b"turn:" not in stranger.content
    nurse = signed_in(Client(), personas.user("nurse")).get(url(act))
    assert nurse.status_code == 404
    unknown = signed_in(Client(), personas.patient_user).get(url(uuid.uuid4()))
    assert unknown.status_code == 404
    assert client.post(url(act)).status_code == 405


def test_it_stops_the_start_on_a_bad_relay_configuration(settings: Any) -> None:
    settings.MAILLAGE_TURN_URLS = "turn:turn.example.fr:3478"
    settings.MAILLAGE_TURN_SECRET = ""
    with pytest.raises(SystemCheckError, match=r"rtc\.E002"):
        call_command("check")
    settings.MAILLAGE_TURN_URLS = "http://turn.example.fr"
    with pytest.raises(SystemCheckError, match=r"rtc\.E001"):
        call_command("check")
