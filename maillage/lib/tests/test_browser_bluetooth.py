"""bluetooth.js in Chromium: the shared byte vectors, and the Web Bluetooth glue on a fake device.

Headless Chromium cannot pair a device: the page's ``navigator.bluetooth`` is a
stand-in for the browser's API (requestDevice, a GATT server, characteristics
that are EventTargets), and the test fires ``characteristicvaluechanged`` with
the bytes a device sends, so that they take the path a real notification takes.
The script is loaded as the pages load it, from the static files.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from playwright.sync_api import Browser, Page

from maillage.lib import bluetooth as bt
from maillage.lib.tests.test_bluetooth import VECTORS
from maillage.testing import bluetooth as fake_bluetooth
from maillage.testing.bluetooth import FakeDevice

pytestmark = pytest.mark.browser

SCRIPT = finders.find("maillage/js/bluetooth.js")


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    # No server needed: the parser is the page's only code.
    context = chromium.new_context()
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.set_content("<!doctype html><html lang='fr'><title>Bluetooth</title><main></main></html>")
    assert isinstance(SCRIPT, str)
    page.add_script_tag(path=SCRIPT)
    yield page
    context.close()


RUN_VECTORS = """(vectors) => {
  const B = window.MaillageBluetooth;
  const bytes = (hex) => {
    const clean = hex.split(" ").join("");
    const out = new Uint8Array(clean.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.substr(2 * i, 2), 16);
    return out;
  };
  const raw = (hex) => bytes(hex).reduceRight((n, b) => n * 256 + b, 0);
  const run = (v) => {
    try {
      // As the event gives it: a DataView on a larger buffer, at an offset.
      const b = bytes(v.hex);
      const buffer = new Uint8Array(b.length + 3);
      buffer.set(b, 2);
      const r = B.parse(v.characteristic, new DataView(buffer.buffer, 2, b.length));
      const values = {};
      for (const [k, q] of Object.entries(r.values)) values[k] = {value: q.value, unit: q.unit};
      const out = Object.assign({}, r, {values});
      delete out.characteristic;
      return {reading: out};
    } catch (e) {
      return e instanceof B.MalformedPacket ? {error: e.problem} : {crash: String(e)};
    }
  };
  return {
    sfloat: vectors.sfloat.map((v) => B.decodeSfloat(raw(v.hex)).text),
    float: vectors.float.map((v) => B.decodeFloat(raw(v.hex)).text),
    packets: vectors.packets.map(run),
  };
}"""


def test_every_vector_reads_the_same_in_the_browser(page: Page) -> None:
    results = page.evaluate(RUN_VECTORS, VECTORS)
    assert results["sfloat"] == [v["value"] for v in VECTORS["sfloat"]]
    assert results["float"] == [v["value"] for v in VECTORS["float"]]
    assert len(results["packets"]) == len(VECTORS["packets"])
    for vector, result in zip(VECTORS["packets"], results["packets"], strict=True):
        if "error" in vector:
            assert result == {"error": vector["error"]}, vector["name"]
        else:
            assert result == {"reading": vector["expect"]}, vector["name"]


def test_the_scripts_codes_are_the_modules(page: Page) -> None:
    codes = page.evaluate("window.MaillageBluetooth.CODES")
    assert codes == {m.value: [c.loinc, c.mdc] for m, c in bt.CODES.items()}
    services = page.evaluate("window.MaillageBluetooth.MEASUREMENTS")
    followed = {c for uuids in services.values() for c in uuids}
    assert followed == set(bt.PARSERS)
    assert {bt.SERVICE_OF[c] for c in followed} == set(
        page.evaluate("Object.values(window.MaillageBluetooth.SERVICES)")
    )


CONNECT = """(kind) => {
  window.got = {readings: [], errors: []};
  return window.MaillageBluetooth.connect(kind, {
    onReading: (r) => window.got.readings.push(r),
    onError: (e) => window.got.errors.push(e.problem),
    onDisconnect: () => window.got.errors.push("disconnected"),
  }).then((link) => { window.link = link; return link.device; });
}"""


def test_a_blood_pressure_monitor_through_web_bluetooth(page: Page) -> None:
    fake_bluetooth.install_now(page, FakeDevice({0x1810: [0x2A35]}))
    assert page.evaluate("window.MaillageBluetooth.available()") is True
    device = page.evaluate(CONNECT, "blood_pressure")
    assert device == {
        "id": "fake-device-1",
        "name": "BP7000",
        "manufacturer": "Omron",
        "model": "M7 Intelli IT",
        "systemId": "005F310504030201",
    }
    (request,) = fake_bluetooth.requests(page)
    assert request == {"filters": [{"services": [0x1810]}], "optionalServices": [0x180A]}
    assert page.evaluate("window.fakeBluetooth.services[0x1810][0x2a35].notifying") is True

    fake_bluetooth.notify(
        page, 0x1810, 0x2A35, "1E 7800 5000 FF07 EA07 0C 03 0A 14 1E 4800 01 0D00"
    )
    fake_bluetooth.notify(page, 0x1810, 0x2A35, "04 7800 5000 5D00")  # pulse announced, missing
    fake_bluetooth.notify(page, 0x1810, 0x2A35, "01 A0F0 6BF0 7CF0")
    readings: list[dict[str, Any]] = page.evaluate("window.got.readings")
    assert [r["values"]["systolic"]["value"] for r in readings] == ["120", "16"]
    first = readings[0]
    assert first["bytes"] == "1e78005000ff07ea070c030a141e4800010d00"
    assert bt.parse_sent(first["characteristic"], first["bytes"]).as_dict()["values"] == {
        k: {"value": v["value"], "unit": v["unit"]} for k, v in first["values"].items()
    }
    assert first["kind"] == "blood_pressure"
    assert first["characteristic"] == 0x2A35
    assert first["time"] == "2026-12-03T10:20:30"
    assert first["device"]["model"] == "M7 Intelli IT"
    assert (
        first["values"]["systolic"] | {"number": 120, "loinc": "8480-6", "mdc": "150021"}
        == (first["values"]["systolic"])
    )
    assert first["values"]["mean_arterial"]["number"] is None
    assert first["values"]["pulse_rate"]["unit"] == "/min"
    assert readings[1]["values"]["diastolic"]["unit"] == "kPa"
    assert page.evaluate("window.got.errors") == ["truncated"]

    page.evaluate("window.link.disconnect()")
    assert fake_bluetooth.notify(page, 0x1810, 0x2A35, "00 7800 5000 5D00")  # still subscribed
    assert page.evaluate("window.got.errors") == ["truncated", "disconnected"]


def test_readings_and_errors_are_document_events_too(page: Page) -> None:
    page.evaluate(
        """() => {
      window.heard = [];
      document.addEventListener("maillage:bluetooth-reading",
        (e) => window.heard.push(e.detail.values.temperature.value));
      document.addEventListener("maillage:bluetooth-error",
        (e) => window.heard.push(e.detail.problem));
    }"""
    )
    page.evaluate(
        """() => {
      const receive = window.MaillageBluetooth.receive;
      receive(0x2a1c, new Uint8Array([0, 0x6e, 1, 0, 0xff]));
      receive(0x2a1c, new Uint8Array([0, 0x6e, 1]), {});
    }"""
    )
    assert page.evaluate("window.heard") == ["36.6", "truncated"]


def test_an_oximeter_with_the_continuous_measurement_only(page: Page) -> None:
    fake_bluetooth.install_now(page, FakeDevice({0x1822: [0x2A5F]}))
    page.evaluate(CONNECT, "pulse_oximeter")
    fake_bluetooth.notify(page, 0x1822, 0x2A5F, "00 6200 4800")
    (reading,) = page.evaluate("window.got.readings")
    assert (reading["kind"], reading["values"]["spo2"]["number"]) == ("plx_continuous", 98)
    assert reading["values"]["spo2"]["loinc"] == "2708-6"


def test_a_device_that_does_not_advertise_its_service(page: Page) -> None:
    fake_bluetooth.install_now(page, FakeDevice({0x181D: [0x2A9D]}))
    page.evaluate(
        "window.got = {readings: []}; window.MaillageBluetooth.connect('weight_scale', "
        "{onReading: (r) => window.got.readings.push(r)}, {anyDevice: true})"
    )
    (request,) = fake_bluetooth.requests(page)
    assert request == {"acceptAllDevices": True, "optionalServices": [0x181D, 0x180A]}
    fake_bluetooth.notify(page, 0x181D, 0x2A9D, "00 1437")
    (reading,) = page.evaluate("window.got.readings")
    assert reading["values"]["weight"]["value"] == "70.5"


def test_a_glucose_meter_is_asked_for_its_last_record(page: Page) -> None:
    fake_bluetooth.install_now(page, FakeDevice({0x1808: [0x2A18, 0x2A52]}))
    page.evaluate(CONNECT, "glucose")
    assert fake_bluetooth.writes(page) == [[0x2A52, [0x01, 0x06]]]
    fake_bluetooth.notify(page, 0x1808, 0x2A18, "02 0100 EA07 0C 03 07 2D 00 5FB0 11")
    (reading,) = page.evaluate("window.got.readings")
    assert (
        reading["values"]["glucose"] | {"value": "0.00095", "unit": "kg/L"}
        == (reading["values"]["glucose"])
    )


def test_a_device_without_the_service_and_a_browser_without_bluetooth(page: Page) -> None:
    fake_bluetooth.install_now(page, FakeDevice({0x1809: []}))
    error = page.evaluate(f"({CONNECT})('thermometer').then(() => null, (e) => e.message)")
    assert error == "the device offers no measurement to follow"
    page.evaluate(
        "Object.defineProperty(navigator, 'bluetooth', {configurable: true, value: undefined})"
    )
    assert page.evaluate("window.MaillageBluetooth.available()") is False
    error = page.evaluate(f"({CONNECT})('weight_scale').then(() => null, (e) => e.message)")
    assert error == "no Web Bluetooth in this browser"


def test_random_packets_read_the_same_on_both_sides(page: Page) -> None:
    """Differential: bytes no one wrote by hand, through bluetooth.py and bluetooth.js."""
    chance = random.Random(20261203)
    packets = []
    for characteristic in [*bt.PARSERS, 0x2A37]:
        for _ in range(150):
            size = chance.randrange(0, 32)
            data = bytes([chance.randrange(256) for _ in range(size)])
            packets.append(
                {"characteristic": f"{characteristic:04X}", "hex": data.hex(), "name": ""}
            )
    results = page.evaluate(RUN_VECTORS, {"sfloat": [], "float": [], "packets": packets})
    outcomes = {"error": 0, "reading": 0}
    for packet, result in zip(packets, results["packets"], strict=True):
        try:
            expected: dict[str, Any] = {
                "reading": bt.parse_sent(packet["characteristic"], packet["hex"]).as_dict()
            }
        except bt.MalformedPacket as error:
            expected = {"error": error.problem.value}
        assert result == expected, packet
        outcomes[next(iter(expected))] += 1
    # Both outcomes were exercised, not only refusals.
    assert min(outcomes.values()) > 100, outcomes


# Field layouts from STANDARDS.md's table: (flag bit or None when always there, size or "date").
LAYOUTS: dict[int, list[tuple[int | None, int | str]]] = {
    0x2A35: [(None, 6), (0x02, "date"), (0x04, 2), (0x08, 1), (0x10, 2)],
    0x2A1C: [(None, 4), (0x02, "date"), (0x04, 1)],
    0x2A5E: [(None, 4), (0x01, "date"), (0x02, 2), (0x04, 3), (0x08, 2)],
    0x2A5F: [(None, 4), (0x01, 4), (0x02, 4), (0x04, 2), (0x08, 3), (0x10, 2)],
    0x2A9D: [(None, 2), (0x02, "date"), (0x04, 1), (0x08, 4)],
    0x2A18: [(None, 2), (None, "date"), (0x01, 2), (0x02, 3), (0x08, 2)],
}


def _random_packet(chance: random.Random, characteristic: int) -> bytes:
    flags = chance.randrange(256)
    out = bytearray([flags])
    for bit, size in LAYOUTS[characteristic]:
        if bit is not None and not flags & bit:
            continue
        if size == "date":
            year = chance.choice([0, chance.randrange(1990, 2040)])
            out += year.to_bytes(2, "little")
            # Days up to 31 in every month and second 60: some dates do not exist.
            month, day = chance.randrange(1, 13), chance.randrange(1, 32)
            out += bytes(
                [month, day, chance.randrange(24), chance.randrange(60), chance.randrange(61)]
            )
        else:
            assert isinstance(size, int)
            out += bytes(chance.randrange(256) for _ in range(size))
    if chance.random() < 0.1:
        out = out[: chance.randrange(len(out))]
    return bytes(out)


def test_well_formed_random_packets_read_the_same_on_both_sides(page: Page) -> None:
    """Every flag combination with its fields, so that each optional path meets the other side."""
    chance = random.Random(3122026)
    packets = [
        {"characteristic": f"{c:04X}", "hex": _random_packet(chance, c).hex(), "name": ""}
        for c in LAYOUTS
        for _ in range(300)
    ]
    results = page.evaluate(RUN_VECTORS, {"sfloat": [], "float": [], "packets": packets})
    problems: dict[str, int] = {}
    for packet, result in zip(packets, results["packets"], strict=True):
        try:
            expected: dict[str, Any] = {
                "reading": bt.parse_sent(packet["characteristic"], packet["hex"]).as_dict()
            }
            key = "reading"
        except bt.MalformedPacket as error:
            expected = {"error": error.problem.value}
            key = error.problem.value
        assert result == expected, packet
        problems[key] = problems.get(key, 0) + 1
    assert problems["reading"] > 1000, problems
    assert problems["bad_time"] > 5, problems
    assert problems["truncated"] > 50, problems


def test_the_stand_in_is_there_before_the_pages_own_scripts(chromium: Browser) -> None:
    """install() is for the pages of later slices: it must precede their scripts."""
    context = chromium.new_context()
    try:
        page = context.new_page()
        fake_bluetooth.install(page, FakeDevice({0x1809: [0x2A1C]}, name="Thermo"))
        page.goto("data:text/html,<script>window.seen = navigator.bluetooth ? 1 : 0</script>")
        assert page.evaluate("window.seen") == 1
        assert isinstance(SCRIPT, str)
        page.add_script_tag(path=SCRIPT)
        assert page.evaluate(CONNECT, "thermometer")["name"] == "Thermo"
        assert fake_bluetooth.notify(page, 0x1809, 0x2A1C, "00 6E0100FF")
        (reading,) = page.evaluate("window.got.readings")
        assert reading["values"]["temperature"]["value"] == "36.6"
    finally:
        context.close()


def test_the_cuff_inflating_is_progress_never_a_reading_to_send(page: Page) -> None:
    fake_bluetooth.install_now(page, FakeDevice({0x1810: [0x2A35, 0x2A36]}))
    page.evaluate(
        """() => {
      window.progress = [];
      document.addEventListener("maillage:bluetooth-progress",
        (e) => window.progress.push(e.detail.values.cuff_pressure.value));
    }"""
    )
    page.evaluate(CONNECT, "blood_pressure")
    assert page.evaluate("window.fakeBluetooth.services[0x1810][0x2a36].notifying") is True

    for pressure in ("00 9600 FF07 FF07", "00 B400 FF07 FF07"):  # 150 then 180 mmHg
        fake_bluetooth.notify(page, 0x1810, 0x2A36, pressure)
    assert page.evaluate("window.got.readings") == []
    assert page.evaluate("window.progress") == ["150", "180"]
    fake_bluetooth.notify(page, 0x1810, 0x2A35, "00 7800 5000 5D00")
    readings: list[dict[str, Any]] = page.evaluate("window.got.readings")
    assert [r["kind"] for r in readings] == ["blood_pressure"]
    # And the server, if one were sent, records nothing of it.
    assert bt.parse_sent("2a36", "009600ff07ff07").quantities() == []
