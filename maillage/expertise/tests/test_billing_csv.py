"""A professional's acts of a month as a CSV for French spreadsheets; patients as allowed."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.utils import timezone
from django.utils.timezone import localdate

from maillage.audit.models import Action, AuditEntry
from maillage.expertise import actions
from maillage.expertise.models import Priority, Recommendation, Request, Status
from maillage.front.tests.test_home import signed_in

pytestmark = pytest.mark.django_db


def _concluded(personas: Any, dermatology: Any) -> Request:
    gp = personas.treating_doctor.user
    draft = actions.save_draft(
        gp,
        personas.patient.uuid,
        actions.Ask(
            question="Kératose ?", priority="soon", pool_uuid=dermatology.pool.uuid, consent=True
        ),
    )
    request = actions.submit(gp, draft.uuid)
    actions.claim(dermatology.first.user, request.uuid)
    actions.conclude(
        dermatology.first.user, request.uuid, actions.Conclusion("Bénin.", Recommendation.NONE)
    )
    request.refresh_from_db()
    return request


def _url() -> str:
    today = localdate()
    return f"/teleexpertise/facturation/{today:%Y-%m}.csv"


def _rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())  # the BOM Excel needs
    text = response.content.decode("utf-8")[1:]
    return list(csv.reader(io.StringIO(text), delimiter=";"))


HEADER = [
    "Date",
    "Référence de la demande",
    "Acte",
    "Libellé",
    "Montant (EUR)",
    "Patient",
    "Date de naissance",
    "Alerte",
]


def test_each_professional_gets_their_own_act_with_the_patient_they_may_read(
    personas: Any, dermatology: Any
) -> None:
    request = _concluded(personas, dermatology)
    patient = personas.patient
    day = localdate(request.concluded_at).strftime("%d/%m/%Y")
    birth = patient.birth_date.strftime("%d/%m/%Y")
    before = AuditEntry.objects.filter(action=Action.EXPERTISE_READ).count()

    header, *lines = _rows(signed_in(personas.treating_doctor.user).get(_url()))
    assert header == HEADER
    assert lines == [
        [day, str(request.uuid)[:8], "RQD", lines[0][3], "10,00", patient.display_name, birth, ""]
    ]
    assert lines[0][3].startswith("RQD")
    _header, *lines = _rows(signed_in(dermatology.first.user).get(_url()))
    assert [(line[2], line[4], line[5]) for line in lines] == [
        ("TE2", "20,00", patient.display_name)
    ]
    # Each list of patients shown is audited: one entry per professional here.
    listed = AuditEntry.objects.filter(action=Action.EXPERTISE_READ).order_by("pk")[before:]
    assert [(e.actor_id, e.patient_id, e.detail.get("listed")) for e in listed] == [
        (personas.treating_doctor.user.pk, patient.pk, [str(request.uuid)]),
        (dermatology.first.user.pk, patient.pk, [str(request.uuid)]),
    ]
    # A pool member who did not take it bills nothing and sees nothing.
    _header, *lines = _rows(signed_in(dermatology.second.user).get(_url()))
    assert lines == []


def test_after_the_access_ends_the_act_stays_and_the_patient_is_hidden(
    personas: Any, dermatology: Any, settings: Any
) -> None:
    _concluded(personas, dermatology)
    settings.MAILLAGE_EXPERTISE_ACCESS_DAYS = 0
    listed = AuditEntry.objects.filter(action=Action.EXPERTISE_READ, detail__has_key="listed")
    before = listed.count()
    _header, *lines = _rows(signed_in(dermatology.first.user).get(_url()))
    assert [(line[2], line[5], line[6]) for line in lines] == [("TE2", "—", "—")]
    assert listed.count() == before  # no patient shown, none audited as shown


def test_a_patient_past_the_yearly_limit_is_flagged(personas: Any, dermatology: Any) -> None:
    # Four tele-expertises of hers concluded earlier this year, asked by the nurse.
    nurse = personas.nurse
    earlier = timezone.now() - dt.timedelta(minutes=5)
    Request.objects.bulk_create(
        Request(
            patient=personas.patient,
            requester=nurse.user,
            requester_professional=nurse,
            priority=Priority.objects.get(code="routine"),
            status=Status.CONCLUDED,
            submitted_at=earlier,
            concluded_at=earlier,
        )
        for _ in range(4)
    )
    _concluded(personas, dermatology)
    _header, *lines = _rows(signed_in(personas.treating_doctor.user).get(_url()))
    [line] = lines  # the nurse's acts are hers, not in this list
    assert line[2] == "RQD"
    assert line[7] == "Au-delà de la limite annuelle : 5e télé-expertise sur 4 pour ce patient"


def test_bad_months_and_other_roles_are_refused(personas: Any, dermatology: Any) -> None:
    gp = signed_in(personas.treating_doctor.user)
    assert gp.get("/teleexpertise/facturation/2026-13.csv").status_code == 404
    assert gp.get("/teleexpertise/facturation/2026-00.csv").status_code == 404
    assert gp.get("/teleexpertise/facturation/2026-1.csv").status_code == 404
    assert gp.get("/teleexpertise/facturation/" + "9" * 5000 + ".csv").status_code == 404
    assert signed_in(personas.analyst).get(_url()).status_code == 403
    assert signed_in(personas.patient_user).get(_url()).status_code == 403


def test_the_home_page_leads_to_the_months_and_each_downloads(
    personas: Any, dermatology: Any
) -> None:
    _concluded(personas, dermatology)
    gp = signed_in(personas.treating_doctor.user)
    assert "/teleexpertise/facturation/" in gp.get("/").content.decode()
    page = gp.get("/teleexpertise/facturation/").content.decode()
    assert _url() in page
    _header, *lines = _rows(gp.get(_url()))
    assert [line[2] for line in lines] == ["RQD"]
    patient = signed_in(personas.patient_user)
    assert patient.get("/teleexpertise/facturation/").status_code == 403
    assert "/teleexpertise/facturation/" not in patient.get("/").content.decode()
