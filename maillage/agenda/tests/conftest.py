"""The agenda's tests use the shared agendas (maillage.testing.agendas) and the FHIR client."""

from __future__ import annotations

import pytest
from django.test import Client

from maillage.fhir.tests.conftest import Api
from maillage.testing.agendas import (  # noqa: F401 (fixtures and helpers other tests import)
    Agendas,
    _mail_and_sms,
    agendas,
    every_day,
    tomorrow_at,
)


@pytest.fixture
def api(client: Client) -> Api:
    """The FHIR API with bearer tokens, as the FHIR tests use it."""
    return Api(client)
