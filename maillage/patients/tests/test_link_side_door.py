"""Finding 3, tried as the attacker: a pharmacist with no link to a patient types
her traits into "new patient", reads the duplicate page, posts ``link_to`` and
would then have his whole pharmacy follow her.

The traits alone are refused (audited on her trail, rule "relation"); the
matricule INS with its key links, and the patient sees the link and undoes it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.directory.models import Structure, StructureKind
from maillage.directory.terminology import Profession
from maillage.front.tests.test_home import signed_in
from maillage.patients.models import Patient
from maillage.testing import factories as f
from maillage.testing.browser import (
    PHONE,
    assert_fits,
    check_accessibility,
    confirmed_device,
    sign_in,
)
from maillage.testing.factories import page_text

HER_PHONE = "06 12 34 56 78"
ADDRESS = "3 rue des Lilas"


@pytest.fixture
def pharmacy(personas) -> Structure:
    return f.structure("Pharmacie du Centre", StructureKind.PHARMACY, "18033")


@pytest.fixture
def pharmacist(personas, pharmacy):
    pro = f.professional(
        "pharmacien",
        last_name="Garnier",
        first_name="Marc",
        profession=Profession.PHARMACIST,
        structures=(pharmacy,),
    )
    return pro.user


@pytest.fixture
def victim(personas) -> Patient:
    """The persona patient, with a phone, an address and a place of birth to leak."""
    Patient.objects.filter(pk=personas.patient.pk).update(
        phone=HER_PHONE, address_line=ADDRESS, birthplace_code="18033"
    )
    personas.patient.refresh_from_db()
    return personas.patient


def traits(patient: Patient, **more: str) -> dict[str, str]:
    """What anyone who knows her name and birthday can type: the strict traits only."""
    return {
        "birth_name": patient.birth_name,
        "first_birth_given_name": patient.first_birth_given_name,
        "birth_date": patient.birth_date.isoformat(),
        "sex": patient.sex,
        "ins_kind": "NIR",
        **more,
    }


def link_attempts(patient: Patient, actor) -> list[tuple[str, str, str]]:
    return [
        (e.outcome, e.basis, e.detail.get("rule") or e.detail.get("failure", ""))
        for e in AuditEntry.objects.filter(
            patient=patient, actor=actor, action=Action.PATIENT_LINK
        ).order_by("seq")
    ]


@pytest.mark.django_db
def test_the_duplicate_page_names_her_but_shows_no_ins_address_or_phone(
    personas, pharmacist, victim
) -> None:
    response = signed_in(pharmacist).post("/patients/nouveau/", traits(victim))

    assert response.status_code == 409
    text = page_text(response)
    # Enough to avoid a second identity...
    assert "GIRARD Micheline" in text
    assert "14/03/1948" in text
    assert "Bourges (18033)" in text  # place of birth
    # ...and nothing else about her.
    assert victim.ins_matricule and victim.ins_matricule not in text
    assert victim.ins_matricule[:13] not in text
    assert HER_PHONE not in text and ADDRESS not in text
    assert "Sancoins" not in text  # commune of residence and the MSP that follows her
    assert "Morel" not in text  # her médecin traitant
    assert "Matricule INS de cette personne, avec sa clé" in text
    assert Patient.objects.filter(match_key=victim.match_key).count() == 1


@pytest.mark.django_db
def test_a_traits_only_link_is_refused_audited_and_links_nothing(
    personas, pharmacy, pharmacist, victim
) -> None:
    client = signed_in(pharmacist)
    client.post("/patients/nouveau/", traits(victim))

    response = client.post("/patients/nouveau/", traits(victim, link_to=str(victim.uuid)))

    assert response.status_code == 404
    text = page_text(response)
    assert "Rien n'a été rattaché" in text
    assert "il faut le matricule INS de cette personne avec sa clé" in text
    assert "demandez-le au patient ou à son médecin traitant" in text
    assert list(victim.followed_by.all()) == [personas.msp]
    assert link_attempts(victim, pharmacist) == [(Outcome.DENIED, "", "relation")]
    # The refusal is on her trail, so in her access log.
    log = page_text(signed_in(personas.patient_user).get("/patients/mon-dossier/acces/"))
    assert "Marc Garnier" in log and "a rattaché le patient à une structure" in log
    # And he still cannot read her.
    assert client.get(f"/patients/{victim.uuid}/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    "matricule",
    [
        "",
        # A well-formed matricule of someone else born the same month.
        f.matricule("F", dt.date(1948, 3, 14), place="18033", order=999),
    ],
)
def test_a_wrong_or_missing_matricule_is_refused_too(
    personas, pharmacist, victim, matricule
) -> None:
    response = signed_in(pharmacist).post(
        "/patients/nouveau/",
        traits(victim, ins_matricule=matricule, link_to=str(victim.uuid)),
    )
    assert response.status_code == 404
    assert list(victim.followed_by.all()) == [personas.msp]
    assert link_attempts(victim, pharmacist) == [(Outcome.DENIED, "", "relation")]


@pytest.mark.django_db
def test_a_mistyped_matricule_is_explained_in_french_and_links_nothing(
    personas, pharmacist, victim
) -> None:
    matricule = str(victim.ins_matricule)
    wrong_key = matricule[:13] + f"{(int(matricule[13:]) % 97) + 1:02d}"
    response = signed_in(pharmacist).post(
        "/patients/nouveau/",
        traits(victim, ins_matricule=wrong_key, link_to=str(victim.uuid)),
    )
    assert response.status_code == 400
    assert "La clé de ce matricule INS (ses 2 derniers chiffres) ne correspond pas" in page_text(
        response
    )
    assert list(victim.followed_by.all()) == [personas.msp]
    assert not AuditEntry.objects.filter(action=Action.PATIENT_LINK, outcome=Outcome.GRANTED)


@pytest.mark.django_db
def test_an_unknown_id_gets_the_same_answer_and_is_audited(personas, pharmacist, victim) -> None:
    client = signed_in(pharmacist)
    refused = client.post("/patients/nouveau/", traits(victim, link_to=str(victim.uuid)))
    unknown = client.post(
        "/patients/nouveau/",
        traits(victim, link_to="00000000-0000-4000-8000-000000000000"),
    )
    garbage = client.post("/patients/nouveau/", traits(victim, link_to="x" * 300))

    assert refused.status_code == unknown.status_code == garbage.status_code == 404
    assert "Rien n'a été rattaché" in page_text(unknown)
    unknown_entries = AuditEntry.objects.filter(
        actor=pharmacist, action=Action.PATIENT_LINK, patient__isnull=True
    )
    assert [e.outcome for e in unknown_entries] == [Outcome.DENIED, Outcome.DENIED]
    assert len(unknown_entries[1].detail["unknown_id"]) == 64
    assert list(victim.followed_by.all()) == [personas.msp]


@pytest.mark.django_db
def test_with_her_matricule_the_link_works_and_is_on_her_trail(
    personas, pharmacy, pharmacist, victim
) -> None:
    client = signed_in(pharmacist)
    spaced = " ".join(
        [victim.ins_matricule[:1], victim.ins_matricule[1:13], victim.ins_matricule[13:]]
    )

    response = client.post(
        "/patients/nouveau/", traits(victim, ins_matricule=spaced, link_to=str(victim.uuid))
    )

    assert response.status_code == 302
    assert response["Location"] == f"/patients/{victim.uuid}/"
    assert set(victim.followed_by.all()) == {personas.msp, pharmacy}
    entry = AuditEntry.objects.get(patient=victim, actor=pharmacist, action=Action.PATIENT_LINK)
    assert (entry.outcome, entry.basis) == (Outcome.GRANTED, "ins_proof")
    assert entry.detail["structures"] == [str(pharmacy.uuid)]
    assert client.get(f"/patients/{victim.uuid}/").status_code == 200
    assert Patient.objects.filter(match_key=victim.match_key).count() == 1


@pytest.mark.django_db
def test_linking_again_changes_nothing_and_says_so(personas, pharmacy, pharmacist, victim) -> None:
    client = signed_in(pharmacist)
    form = traits(victim, ins_matricule=victim.ins_matricule, link_to=str(victim.uuid))
    assert client.post("/patients/nouveau/", form).status_code == 302
    assert client.post("/patients/nouveau/", form).status_code == 302

    assert link_attempts(victim, pharmacist) == [
        (Outcome.GRANTED, "ins_proof", ""),
        (Outcome.FAILED, "ins_proof", "nothing_to_link"),
    ]


def _link(client: Client, patient: Patient) -> None:
    form = traits(patient, ins_matricule=str(patient.ins_matricule), link_to=str(patient.uuid))
    assert client.post("/patients/nouveau/", form).status_code == 302


@pytest.mark.django_db
def test_the_patient_sees_the_link_and_undoes_it(personas, pharmacy, pharmacist, victim) -> None:
    theirs = signed_in(pharmacist)
    _link(theirs, victim)
    mine = signed_in(personas.patient_user)

    page = page_text(mine.get("/patients/mon-dossier/"))
    assert "Pharmacie du Centre" in page
    assert "par Marc Garnier" in page
    assert "Retirer" in page

    response = mine.post(f"/patients/mon-dossier/structures/{pharmacy.uuid}/retirer/")

    assert response.status_code == 302
    assert response["Location"] == "/patients/mon-dossier/"
    assert list(victim.followed_by.all()) == [personas.msp]
    entry = AuditEntry.objects.get(patient=victim, action=Action.PATIENT_UNLINK)
    assert (entry.actor, entry.outcome, entry.basis) == (
        personas.patient_user,
        Outcome.GRANTED,
        "self",
    )
    assert entry.detail["structure"] == str(pharmacy.uuid)
    after = page_text(mine.get("/patients/mon-dossier/"))
    assert "Pharmacie du Centre ne vous suit plus" in after
    assert "a retiré une structure qui suit le patient" in page_text(
        mine.get("/patients/mon-dossier/acces/")
    )
    # The pharmacist is back to "not found", and his refusal is on her trail.
    assert theirs.get(f"/patients/{victim.uuid}/").status_code == 404
    assert AuditEntry.objects.filter(
        patient=victim, actor=pharmacist, action=Action.PATIENT_READ, outcome=Outcome.DENIED
    ).exists()


@pytest.mark.django_db
def test_undoing_a_structure_that_does_not_follow_her_is_a_failed_entry(
    personas, pharmacy, victim
) -> None:
    response = signed_in(personas.patient_user).post(
        f"/patients/mon-dossier/structures/{pharmacy.uuid}/retirer/", follow=True
    )
    assert response.status_code == 200
    assert "Pharmacie du Centre ne vous suivait pas." in page_text(response)
    entry = AuditEntry.objects.get(patient=victim, action=Action.PATIENT_UNLINK)
    assert (entry.outcome, entry.detail["failure"]) == (Outcome.FAILED, "not_following")


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["pharmacist", "coordinator", "treating_doctor", "admin"])
def test_no_one_but_the_patient_can_undo_a_link(personas, pharmacy, pharmacist, victim, who):
    """A professional has no record of their own: the undo URL is a 404 to them."""
    user = pharmacist if who == "pharmacist" else personas.user(who)
    response = signed_in(user).post(
        f"/patients/mon-dossier/structures/{personas.msp.uuid}/retirer/"
    )
    assert response.status_code == 404
    assert list(victim.followed_by.all()) == [personas.msp]
    assert not AuditEntry.objects.filter(action=Action.PATIENT_UNLINK, outcome=Outcome.GRANTED)


@pytest.mark.django_db
def test_another_patient_undoes_only_her_own_links(personas, victim) -> None:
    other_user = f.user("autre.patiente", "patient")
    other = f.patient("NOEL", "Lina", dt.date(1990, 1, 2), user=other_user)
    response = signed_in(other_user).post(
        f"/patients/mon-dossier/structures/{personas.msp.uuid}/retirer/"
    )
    assert response.status_code == 302
    assert list(victim.followed_by.all()) == [personas.msp]
    entry = AuditEntry.objects.get(action=Action.PATIENT_UNLINK)
    assert (entry.patient, entry.outcome) == (other, Outcome.FAILED)


@pytest.mark.django_db
def test_the_undo_is_a_post_and_an_unknown_structure_is_not_found(personas, victim) -> None:
    client = signed_in(personas.patient_user)
    assert (
        client.get(f"/patients/mon-dossier/structures/{personas.msp.uuid}/retirer/").status_code
        == 405
    )
    unknown = "/patients/mon-dossier/structures/00000000-0000-4000-8000-000000000000/retirer/"
    assert client.post(unknown).status_code == 404
    assert list(victim.followed_by.all()) == [personas.msp]


@pytest.mark.browser
def test_in_a_browser_the_side_door_is_shut_and_the_patient_undoes_the_link(
    page: Page, personas, pharmacy, pharmacist, victim
) -> None:
    # The pharmacist types her traits and is shown who she is, no more.
    sign_in(page, "pharmacien", f.PASSWORD, totp_key=confirmed_device(pharmacist))
    page.goto("/patients/nouveau/")
    page.get_by_role("textbox", name="Nom de naissance", exact=True).fill("Girard")
    page.get_by_role("textbox", name="Premier prénom de naissance", exact=True).fill("Micheline")
    page.get_by_label("Date de naissance").fill("1948-03-14")
    page.get_by_label("Féminin", exact=True).check()
    page.get_by_role("button", name="Enregistrer").click()
    warning = page.locator("#doublon")
    expect(warning.get_by_role("heading", name="GIRARD Micheline")).to_be_visible()
    expect(warning).not_to_contain_text(HER_PHONE)
    check_accessibility(page)

    # "It is this person" without her matricule: nothing is linked.
    use = warning.get_by_role("button", name="C'est cette personne : utiliser cette fiche")
    use.click()
    expect(page.get_by_role("heading", name="Rien n'a été rattaché")).to_be_visible()
    check_accessibility(page)
    assert list(victim.followed_by.all()) == [personas.msp]

    # With the matricule she gave him (on her carte Vitale), it is.
    page.locator("#doublon").get_by_label("Matricule INS de cette personne, avec sa clé").fill(
        victim.ins_matricule
    )
    page.locator("#doublon").get_by_role(
        "button", name="C'est cette personne : utiliser cette fiche"
    ).click()
    expect(
        page.get_by_text("La fiche existante est désormais suivie par votre structure.")
    ).to_be_visible()
    assert set(victim.followed_by.all()) == {personas.msp, pharmacy}
    identity_url = page.url

    # She sees who added the pharmacy, and removes it.
    browser = page.context.browser
    assert browser is not None
    context = browser.new_context(base_url=page.url.split("/patients")[0], locale="fr-FR")
    mine = context.new_page()
    sign_in(mine, "patient", f.PASSWORD)
    mine.goto("/patients/mon-dossier/")
    card = mine.locator("li.card", has_text="Pharmacie du Centre")
    expect(card).to_contain_text("par Marc Garnier")
    check_accessibility(mine)
    assert_fits(mine, PHONE)
    card.get_by_role("button", name="Retirer Pharmacie du Centre").click()
    expect(mine.get_by_text("Pharmacie du Centre ne vous suit plus")).to_be_visible()
    expect(mine.locator("li.card", has_text="Pharmacie du Centre")).to_have_count(0)
    check_accessibility(mine)
    context.close()
    assert list(victim.followed_by.all()) == [personas.msp]
    assert AuditEntry.objects.filter(
        patient=victim, action=Action.PATIENT_UNLINK, outcome=Outcome.GRANTED
    ).exists()

    # The pharmacist's page of her is now "not found".
    response = page.goto(identity_url)
    assert response is not None and response.status == 404
