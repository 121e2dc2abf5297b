"""A simulated Bluetooth health device in a Playwright page (``fake_bluetooth.js``).

Headless Chromium cannot pair a real device: the page's ``navigator.bluetooth``
is replaced by a stand-in whose characteristics fire ``characteristicvaluechanged``
with the bytes the test gives, so that they go through bluetooth.js as a real
notification does.

    device = FakeDevice(services={0x1810: [0x2A35]})
    install(page, device)          # before page.goto(): every document of the page gets it
    ...                            # the page calls MaillageBluetooth.connect("blood_pressure", …)
    notify(page, 0x1810, 0x2A35, "1E 7800 5000 FF07 …")
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

SCRIPT = Path(__file__).with_name("fake_bluetooth.js").read_text()


@dataclass(frozen=True)
class FakeDevice:
    services: dict[int, list[int]]  # service -> its measurement characteristics
    id: str = "fake-device-1"
    name: str = "BP7000"
    manufacturer: str = "Omron"
    model: str = "M7 Intelli IT"
    # The Device Information's System ID as sent (little-endian): EUI-64 005F310504030201.
    system_id: bytes = field(default=bytes([1, 2, 3, 4, 5, 0x31, 0x5F, 0x00]))

    def config(self) -> dict[str, Any]:
        return {
            "services": {str(s): list(c) for s, c in self.services.items()},
            "id": self.id,
            "name": self.name,
            "manufacturer": self.manufacturer,
            "model": self.model,
            "systemId": list(self.system_id),
        }


def install(page: Page, device: FakeDevice) -> None:
    """For the documents the page will load (call before ``goto``)."""
    page.add_init_script(script=f"({SCRIPT})({json.dumps(device.config())});")


def install_now(page: Page, device: FakeDevice) -> None:
    """In the document already loaded."""
    page.evaluate(SCRIPT, device.config())


def notify(page: Page, service: int, characteristic: int, hex_bytes: str) -> bool:
    """The device sends these bytes; False when the page had not started notifications."""
    data = list(bytes.fromhex(hex_bytes.replace(" ", "")))
    return bool(
        page.evaluate(
            "([s, c, data]) => window.fakeBluetooth.notify(s, c, data)",
            [service, characteristic, data],
        )
    )


def requests(page: Page) -> list[dict[str, Any]]:
    """The options of each ``requestDevice()`` the page made."""
    return list(page.evaluate("window.fakeBluetooth.requests"))


def writes(page: Page) -> list[list[Any]]:
    """``[characteristic, [bytes]]`` of each ``writeValue()``."""
    return list(page.evaluate("window.fakeBluetooth.writes"))
