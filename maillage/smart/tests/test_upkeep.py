"""Expired tokens and codes are deleted by the periodic upkeep; live ones stay."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from oauth2_provider.models import AccessToken

from maillage.smart.tests.conftest import launch
from maillage.smart.upkeep import clear_expired_tokens
from maillage.tasks.schedule import job_named


def test_it_deletes_expired_tokens_only(client, personas, app):
    flow = launch(client, personas.patient_user, app)
    flow.token("patient/*.rs")
    flow.token("patient/Patient.rs")
    old = AccessToken.objects.order_by("pk").first()
    assert old is not None
    AccessToken.objects.filter(pk=old.pk).update(expires=timezone.now() - dt.timedelta(hours=1))

    clear_expired_tokens(timezone.now())
    clear_expired_tokens(timezone.now())

    assert list(AccessToken.objects.values_list("scope", flat=True)) == ["patient/Patient.rs"]


def test_it_is_a_job_of_the_scheduler():
    job = job_named("oauth_token_expiry")

    assert job is not None
    assert job.function == "maillage.smart.upkeep.clear_expired_tokens"
