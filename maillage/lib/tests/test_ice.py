from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from maillage.lib.ice import IceSettings, check, ice_servers, parse_urls, turn_rest_credentials


def test_it_makes_coturns_rest_credentials() -> None:
    pair = turn_rest_credentials("s3cret", "abc-123", now=1_800_000_000.7, ttl_seconds=3600)
    assert pair.username == "1800003600:abc-123"
    assert pair.expires_at == 1_800_003_600
    # turnserver's check: base64(HMAC-SHA1(static-auth-secret, username)).
    expected = hmac.new(b"s3cret", b"1800003600:abc-123", hashlib.sha1).digest()
    assert base64.b64decode(pair.credential) == expected


@pytest.mark.parametrize("label", ["", "Jeanne Dupont", "a:b", "x" * 65])
def test_it_refuses_a_label_that_is_not_an_opaque_id(label: str) -> None:
    with pytest.raises(ValueError):
        turn_rest_credentials("s3cret", label, now=0, ttl_seconds=60)


def test_it_refuses_no_secret_and_no_lifetime() -> None:
    with pytest.raises(ValueError):
        turn_rest_credentials("", "a", now=0, ttl_seconds=60)
    with pytest.raises(ValueError):
        turn_rest_credentials("s", "a", now=0, ttl_seconds=0)


def test_it_reads_urls_and_refuses_others() -> None:
    assert parse_urls(" stun:a:3478, turn:b:3478?transport=udp ,") == (
        "stun:a:3478",
        "turn:b:3478?transport=udp",
    )
    assert parse_urls("") == ()
    with pytest.raises(ValueError):
        parse_urls("https://turn.example.fr")


def test_it_gives_stun_as_is_and_turn_with_a_pair() -> None:
    config = IceSettings(
        stun_urls=("stun:s:3478",), turn_urls=("turn:t:3478", "turns:t:5349"), turn_secret="k"
    )
    stun, relay = ice_servers(config, "p1", now=100)
    assert stun == {"urls": ["stun:s:3478"]}
    assert relay["urls"] == ["turn:t:3478", "turns:t:5349"]
    assert relay["username"] == f"{100 + config.ttl_seconds}:p1"
    assert (
        relay["credential"]
        == turn_rest_credentials("k", "p1", now=100, ttl_seconds=config.ttl_seconds).credential
    )


def test_it_gives_fixed_credentials_only_without_a_secret() -> None:
    config = IceSettings(turn_urls=("turn:t",), turn_username="u", turn_password="p")
    assert ice_servers(config, "p1", now=0) == [
        {"urls": ["turn:t"], "username": "u", "credential": "p"}
    ]
    assert ice_servers(IceSettings(), "p1", now=0) == []


def test_it_says_what_is_wrong_with_a_configuration() -> None:
    assert check(IceSettings()) == []
    assert check(IceSettings(turn_urls=("turn:t",), turn_secret="k")) == []
    assert check(IceSettings(turn_urls=("turn:t",)))
    assert check(IceSettings(transport_policy="relay"))
    assert check(IceSettings(transport_policy="sometimes"))
    assert check(IceSettings(turn_urls=("turn:t",), turn_secret="k", turn_username="u"))
