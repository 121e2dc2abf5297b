"""The identity page saves only over the version it showed: a change made meanwhile is kept."""

from __future__ import annotations

import pytest

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.front.tests.test_home import signed_in
from maillage.testing.factories import page_text


def _form_data(form, doctor) -> dict[str, str]:
    data = {
        k: ("on" if v is True else "" if v in (None, False) else str(v))
        for k, v in form.context["form"].initial.items()
    }
    data.update({"commune": "Sancoins", "treating_doctor": str(doctor.pk)})
    return data


@pytest.mark.django_db
def test_a_form_shown_before_another_change_does_not_overwrite_it(personas) -> None:
    patient = personas.patient
    url = f"/patients/{patient.uuid}/modifier/"
    doctor, nurse = signed_in(personas.treating_doctor.user), signed_in(personas.nurse.user)
    doctors_form, nurses_form = doctor.get(url), nurse.get(url)
    assert 'name="version" value="1"' in doctors_form.content.decode()

    first = doctor.post(
        url,
        {
            **_form_data(doctors_form, personas.treating_doctor),
            "version": "1",
            "used_name": "MARTIN",
        },
    )
    second = nurse.post(
        url,
        {
            **_form_data(nurses_form, personas.treating_doctor),
            "version": "1",
            "used_name": "DUBOIS",
        },
    )

    assert (first.status_code, second.status_code) == (302, 400)
    assert "Quelqu'un d'autre a modifié cette identité" in page_text(second)
    # The page shown again carries the version it now shows.
    assert 'name="version" value="2"' in second.content.decode()
    patient.refresh_from_db()
    assert (patient.used_name, patient.version) == ("MARTIN", 2)
    failed = AuditEntry.objects.filter(action=Action.PATIENT_UPDATE).latest("seq")
    assert (failed.outcome, failed.detail["failure"]) == (Outcome.FAILED, "stale_version")
