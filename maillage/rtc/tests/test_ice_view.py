"""The ICE endpoint hands TURN credentials to the act's seated participants only."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client

from maillage.conftest import Personas
from maillage.rtc.config import client_config


@pytest.fixture
def turn(settings: Any) -> None:
    settings.MAILLAGE_STUN_URLS = "stun:stun.example.fr:3478"
    settings.MAILLAGE_TURN_URLS = "turn:turn.example.fr:3478?transport=udp"
    settings.MAILLAGE_TURN_SECRET = "test-secret"


def test_it_builds_a_participants_configuration(turn: None) -> None:
    config = client_config("9b1c")
    stun, relay = config["iceServers"]
    assert stun == {"urls": ["stun:stun.example.fr:3478"]}
    assert relay["username"].endswith(":9b1c")
    assert config["iceTransportPolicy"] == "all"
    assert config["videoMaxKbps"] == 250


def test_it_refuses_a_stranger_and_an_unknown_act(
    turn: None, client: Client, personas: Personas
) -> None:
    url = f"/visio-reseau/{uuid.uuid4()}/ice.json"
    anonymous = client.get(url)
    assert anonymous.status_code == 404
    assert b"test-secret" not in anonymous.content and b"turn:" not in anonymous.content
    # Until the room's gate is installed (access.ROOM_GATE), nobody has a seat: fail closed.
    client.force_login(personas.patient_user)
    refused = client.get(url)
    assert refused.status_code == 404
    assert b"turn:" not in refused.content
    assert client.post(url).status_code == 405


def test_it_stops_the_start_on_a_bad_relay_configuration(settings: Any) -> None:
    settings.MAILLAGE_TURN_URLS = "turn:turn.example.fr:3478"
    settings.MAILLAGE_TURN_SECRET = ""
    with pytest.raises(SystemCheckError, match=r"rtc\.E002"):
        call_command("check")
    settings.MAILLAGE_TURN_URLS = "http://turn.example.fr"
    with pytest.raises(SystemCheckError, match=r"rtc\.E001"):
        call_command("check")
