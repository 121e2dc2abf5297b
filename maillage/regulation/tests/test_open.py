"""Opening a case through the page, as the regulator and as those who may not."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.front.tests.test_home import signed_in
from maillage.records import actions as record_actions
from maillage.regulation import actions
from maillage.regulation.models import RegulationCase
from maillage.regulation.tests.conftest import REASON, by_matricule
from maillage.testing import factories as f
from maillage.testing.factories import page_text

URL = "/regulation/ouvrir/"


def _by_traits(**more: str) -> dict[str, str]:
    return {
        "birth_name": "Girard",
        "first_birth_given_name": "micheline",
        "birth_date": "1948-03-14",
        "reason": REASON,
        "hours": "4",
        **more,
    }


@pytest.mark.django_db
def test_by_strict_traits_he_lands_on_her_identity(
    personas, settings, django_capture_on_commit_callbacks
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    personas.patient_user.email = "micheline@example.org"
    personas.patient_user.save(update_fields=["email"])
    client = signed_in(personas.regulator)
    assert client.get(URL).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, _by_traits())
    assert response.status_code == 302
    assert response["Location"] == f"/patients/{personas.patient.uuid}/"
    case = RegulationCase.objects.get()
    assert (case.patient, case.regulator, case.reason) == (
        personas.patient,
        personas.regulator,
        REASON,
    )
    assert case.expires_at - case.opened_at == dt.timedelta(hours=4)
    opened = AuditEntry.objects.get(action=Action.REGULATION_OPEN)
    assert (opened.outcome, opened.patient, opened.basis, opened.reason) == (
        Outcome.GRANTED,
        personas.patient,
        "regulation_case",
        REASON,
    )
    assert opened.detail == {"case": str(case.uuid), "hours": 4}
    # She is told, with no health data: neither her name nor the reason.
    assert [m.to for m in mail.outbox] == [["micheline@example.org"]]
    assert REASON not in mail.outbox[0].body and "GIRARD" not in mail.outbox[0].body
    page = client.get(response["Location"])
    assert page.status_code == 200 and "Dossier de régulation ouvert" in page_text(page)


@pytest.mark.django_db
def test_by_matricule_alone(personas) -> None:
    client = signed_in(personas.regulator)
    response = client.post(
        URL, {"ins_matricule": personas.patient.ins_matricule, "reason": REASON, "hours": "1"}
    )
    assert response.status_code == 302
    assert RegulationCase.objects.get().patient == personas.patient


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reason": "appel du 15"}, "au moins 15 caractères"),
        ({"reason": " " * 20 + "court"}, "au moins 15 caractères"),
        ({"hours": "0"}, "supérieure ou égale à 1"),
        ({"hours": "25"}, "inférieure ou égale à 24"),
        ({"hours": "99999999999999999999999"}, "inférieure ou égale à 24"),
        ({"birth_date": "", "ins_matricule": ""}, "Identifiez le patient"),
        ({"ins_matricule": "123"}, "Ce matricule INS n'est pas valide."),
    ],
)
def test_bad_input_is_explained_and_opens_nothing(personas, change, message) -> None:
    response = signed_in(personas.regulator).post(URL, _by_traits(**change))
    assert response.status_code == 400
    assert message in page_text(response)
    assert not RegulationCase.objects.exists()
    assert not AuditEntry.objects.filter(action=Action.REGULATION_OPEN).exists()


@pytest.mark.django_db
def test_the_ceiling_follows_the_setting(personas, settings) -> None:
    settings.MAILLAGE_REGULATION_HOURS = 2
    client = signed_in(personas.regulator)
    assert client.post(URL, _by_traits(hours="3")).status_code == 400
    assert client.post(URL, _by_traits(hours="2")).status_code == 302


@pytest.mark.django_db
def test_unknown_traits_are_refused_and_kept_in_his_trail(personas) -> None:
    response = signed_in(personas.regulator).post(URL, _by_traits(birth_name="Dupont"))
    assert response.status_code == 400
    assert "Aucun patient ne correspond" in page_text(response)
    assert not RegulationCase.objects.exists()
    refused = AuditEntry.objects.get(action=Action.REGULATION_OPEN)
    assert (refused.outcome, refused.patient, refused.detail["rule"]) == (
        Outcome.DENIED,
        None,
        "unknown_patient",
    )


@pytest.mark.django_db
def test_two_namesakes_need_the_matricule(personas) -> None:
    f.patient("GIRARD", "Micheline", dt.date(1948, 3, 14), commune=f.commune("18033"))
    client = signed_in(personas.regulator)
    assert client.post(URL, _by_traits()).status_code == 400
    assert not RegulationCase.objects.exists()
    response = client.post(URL, _by_traits(ins_matricule=personas.patient.ins_matricule))
    assert response.status_code == 302
    assert RegulationCase.objects.get().patient == personas.patient


@pytest.mark.django_db
def test_refused_when_she_opposed_emergency_access(personas) -> None:
    record_actions.oppose_emergency_access(personas.patient_user, personas.patient)
    client = signed_in(personas.regulator)
    response = client.post(URL, _by_traits())
    assert response.status_code == 400
    assert "s'est opposé à l'accès en urgence" in page_text(response)
    assert not RegulationCase.objects.exists()
    refused = AuditEntry.objects.get(action=Action.REGULATION_OPEN)
    assert (refused.outcome, refused.patient, refused.reason, refused.detail["rule"]) == (
        Outcome.DENIED,
        personas.patient,
        REASON,
        "opposed_emergency",
    )
    assert client.get(f"/patients/{personas.patient.uuid}/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who", ["cardiologist", "treating_doctor", "nurse", "coordinator", "admin", "patient_user"]
)
def test_no_other_role_opens_a_case(personas, who) -> None:
    client = signed_in(personas.user(who))
    assert client.get(URL).status_code == 403
    assert client.post(URL, _by_traits()).status_code == 403
    assert client.get("/regulation/").status_code == 403
    assert not RegulationCase.objects.exists()


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_sign_in(client) -> None:
    response = client.post(URL, {"reason": REASON})
    assert response.status_code == 302 and "/comptes/connexion/" in response["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "   appel     ", "x" * 1001])
def test_the_action_itself_bounds_the_reason(personas, reason) -> None:
    """A caller other than the form (a command, a task) meets the same rule."""
    with pytest.raises(actions.RegulationRuleBroken):
        actions.open_case(personas.regulator, by_matricule(personas.patient), reason, 4)
    assert not RegulationCase.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("hours", [0, -1, 25])
def test_the_action_itself_bounds_the_duration(personas, hours) -> None:
    with pytest.raises(actions.RegulationRuleBroken):
        actions.open_case(personas.regulator, by_matricule(personas.patient), REASON, hours)
    assert not RegulationCase.objects.exists()
