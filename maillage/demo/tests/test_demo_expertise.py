"""Tele-expertise in the demo: pools, requests at every stage, each opened by its logins."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from maillage.accounts.models import User
from maillage.demo.tests import DEMO_ON_SQLITE
from maillage.expertise import queries
from maillage.expertise.actions import pool_responders
from maillage.expertise.models import Pool, PoolKind, Request, Status
from maillage.files import storage
from maillage.front.tests.test_home import signed_in
from maillage.policy.expertise import RequestNotFound, open_request
from maillage.policy.gate import open_record
from maillage.records.models import DocumentType

pytestmark = DEMO_ON_SQLITE


@pytest.fixture(autouse=True)
def private_files(settings: Any, tmp_path: Any) -> None:
    settings.MAILLAGE_FILES_DIR = str(tmp_path / "files")
    settings.MAILLAGE_FILE_KEY_FILE = str(tmp_path / "keys.json")
    settings.MAILLAGE_FILE_KEYS = ""


def _users() -> dict[str, User]:
    return {u.username: u for u in User.objects.filter(is_demo=True)}


@pytest.mark.django_db
def test_requests_at_every_stage_once_each_opened_by_its_logins(capsys: Any) -> None:
    call_command("load_demo")
    count = Request.objects.count()
    call_command("load_demo")
    capsys.readouterr()
    assert Request.objects.count() == count == 9
    users = _users()
    gp, cardio, derm = users["medecin.traitant"], users["cardiologue"], users["dermatologue"]

    statuses = {r.status for r in Request.objects.all()}
    assert statuses == set(Status.values)
    late = [r for r in Request.objects.all() if r.is_late]
    assert len(late) == 1 and late[0].requester == users["infirmier"]
    assert late[0].late_sent_at is None  # the worker escalates it, once, when it runs
    kinds = set(Request.objects.filter(pool__isnull=False).values_list("pool__kind", flat=True))
    assert kinds == {PoolKind.SPECIALTY, PoolKind.TEAM}

    # The demo cardiologist answers cardiology with his announced time, in his pool.
    entry = cardio.professional
    assert entry.accepts_teleexpertise and entry.teleexpertise_response_hours == 48
    cardiology = Pool.objects.get(name="Cardiologie — Cher")
    assert entry in pool_responders(cardiology)
    assert Request.objects.filter(pool=cardiology).exists()

    # The médecin traitant opens each of hers, the draft included.
    mine = Request.objects.filter(requester=gp)
    assert mine.count() == 8
    for request in mine:
        assert open_request(gp, request.uuid).side == "requester"
    assert mine.filter(status=Status.ON_HOLD).exists()  # her reply is awaited

    # The cardiologist's queue: to take in his pool, taken, waiting for her reply, late.
    queue = list(queries.queue_of(cardio))
    assert {r.status for r in queue} == {Status.WAITING, Status.CLAIMED, Status.ON_HOLD}
    assert any(r.is_late for r in queue)
    for request in queue:
        assert open_request(cardio, request.uuid).side in {"specialist", "pool"}
    assert [r["uuid"] for r in queries.late_in_my_pools(cardio)] == [late[0].uuid]

    # The request he took shares three pressures of her office, which he sees.
    taken = Request.objects.get(status=Status.CLAIMED)
    assert taken.readings.count() == 3
    assert len(open_request(cardio, taken.uuid).readings()) == 3

    # Both conclusions filed a real PDF in the record, with their durations.
    concluded = Request.objects.filter(status=Status.CONCLUDED)
    assert concluded.count() == 2
    for request in concluded:
        assert request.opinion is not None and request.opinion_problem == ""
        assert request.conclusion_seconds and request.concluded_on_time is not None
        assert request.concluded_at is not None and request.concluded_at <= timezone.now()
        pdf = storage.read(request.opinion.document_files.get().file)
        assert pdf.startswith(b"%PDF")
        assert open_request(gp, request.uuid).side == "requester"

    # The demo patient's request: the dermatologist concluded it; she sees the opinion.
    patient_user = users["patient"]
    patient = patient_user.patient_record
    hers = concluded.get(patient=patient)
    assert open_request(derm, hers.uuid).side == "specialist"
    documents = open_record(patient_user, patient).documents()
    assert hers.opinion in documents
    assert hers.opinion.type == DocumentType.TELEEXPERTISE_OPINION
    # ... and the cardiologist, a stranger to her, is no participant of it.
    with pytest.raises(RequestNotFound):
        open_request(cardio, hers.uuid)
    waiting = Request.objects.get(status=Status.WAITING, pool__name__startswith="Dermatologie")
    assert open_request(derm, waiting.uuid).side == "pool"


@pytest.mark.django_db
def test_the_logins_pages_show_the_demo_requests(capsys: Any) -> None:
    """Each login's tele-expertise pages, and every request of theirs, open on the demo's rows."""
    call_command("load_demo")
    capsys.readouterr()
    users = _users()
    gp, cardio = signed_in(users["medecin.traitant"]), signed_in(users["cardiologue"])
    assert gp.get("/teleexpertise/").status_code == 200
    for request in Request.objects.filter(requester=users["medecin.traitant"]):
        page = gp.get(f"/teleexpertise/{request.uuid}/")
        assert page.status_code in (200, 302), request.status  # a draft opens its form
    queue = cardio.get("/teleexpertise/file/")
    assert queue.status_code == 200
    assert cardio.get("/teleexpertise/retards/").status_code == 200
    for request in queries.queue_of(users["cardiologue"]):
        assert cardio.get(f"/teleexpertise/{request.uuid}/").status_code == 200
    derm = signed_in(users["dermatologue"])
    assert derm.get("/teleexpertise/file/").status_code == 200
