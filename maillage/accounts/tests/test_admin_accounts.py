"""The administrator tries to become a clinician, to read second factors and to set passwords."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.core import mail
from django.db import models
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from maillage.accounts.models import GrantState, Role, RoleGrant, User
from maillage.audit.models import Action, AuditEntry, Outcome
from maillage.front.tests.test_home import signed_in
from maillage.patients.models import Patient
from maillage.testing import factories as f
from maillage.testing.factories import page_text

pytestmark = pytest.mark.django_db


def _administrator(user: User) -> Client:
    user.is_superuser = True
    user.is_staff = True
    user.email = f"{user.username}@maillage.example"
    user.save(update_fields=["is_superuser", "is_staff", "email"])
    return signed_in(user)


@pytest.fixture
def chief(personas: Any) -> Client:
    return _administrator(personas.admin)


@pytest.fixture
def second_admin(db: None) -> User:
    return f.user("admin.deux", Role.ADMIN, is_staff=True, is_superuser=True)


def _change_form(user: User, **overrides: Any) -> dict[str, Any]:
    """What a browser posts from the user's change form, with the attacker's edits."""
    data: dict[str, Any] = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on" if user.is_active else "",
        "is_staff": "on" if user.is_staff else "",
        "is_superuser": "on" if user.is_superuser else "",
        "role": user.role,
        "structures": [s.pk for s in user.structures.all()],
        "_save": "Enregistrer",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v != ""}


def _entries(action: str, **detail: Any) -> list[AuditEntry]:
    found = AuditEntry.objects.filter(action=action)
    return [e for e in found if all(e.detail.get(k) == v for k, v in detail.items())]


def test_the_administrator_cannot_make_himself_regulator(personas, chief) -> None:
    me = personas.admin
    url = f"/admin/accounts/user/{me.pk}/change/"

    response = chief.post(url, _change_form(me, role=Role.REGULATOR, structures=[personas.msp.pk]))

    me.refresh_from_db()
    assert me.role == Role.ADMIN
    assert not me.structures.exists()
    assert not RoleGrant.objects.exists()
    assert response.status_code == 200
    assert "Vous ne pouvez pas modifier votre propre rôle" in page_text(response)
    refused = _entries(Action.ACCOUNT_CHANGED, user=str(me.uuid), rule="self_administration")
    assert len(refused) == 1 and refused[0].outcome == Outcome.DENIED
    assert not AuditEntry.objects.filter(action=Action.ROLE_CHANGED).exists()


def test_his_own_role_is_not_even_offered(personas, chief) -> None:
    page = page_text(chief.get(f"/admin/accounts/user/{personas.admin.pk}/change/"))
    assert 'name="role"' not in page and 'name="structures"' not in page
    assert 'name="is_superuser"' not in page


def test_a_clinical_role_waits_for_a_second_administrator(
    personas, chief, second_admin, django_capture_on_commit_callbacks
) -> None:
    analyst = personas.analyst
    analyst.email = "analyste@maillage.example"
    analyst.save(update_fields=["email"])

    with django_capture_on_commit_callbacks(execute=True):
        response = chief.post(
            f"/admin/accounts/user/{analyst.pk}/change/",
            _change_form(analyst, role=Role.REGULATOR),
        )
    assert response.status_code == 302
    analyst.refresh_from_db()
    assert analyst.role == Role.ANALYST  # not yet
    grant = RoleGrant.objects.get(user=analyst)
    assert grant.state == GrantState.PENDING and grant.requested_by == personas.admin
    assert _entries(Action.ROLE_GRANT_REQUESTED, user=str(analyst.uuid), role=Role.REGULATOR)

    # The one who asked cannot approve.
    chief.post(
        "/admin/accounts/rolegrant/",
        {"action": "approve", "_selected_action": [grant.pk]},
    )
    analyst.refresh_from_db()
    assert analyst.role == Role.ANALYST
    assert _entries(Action.ROLE_GRANT_DECIDED, rule="second_administrator")

    # Another administrator approves: only now is the role applied, chained and told.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(second_admin).post(
            "/admin/accounts/rolegrant/",
            {"action": "approve", "_selected_action": [grant.pk]},
        )
    assert response.status_code == 302
    analyst.refresh_from_db()
    grant.refresh_from_db()
    assert analyst.role == Role.REGULATOR
    assert grant.state == GrantState.APPROVED and grant.decided_by == second_admin
    changed = _entries(Action.ROLE_CHANGED, user=str(analyst.uuid))
    assert len(changed) == 1 and changed[0].actor == second_admin
    assert changed[0].detail["from"] == Role.ANALYST and changed[0].detail["to"] == Role.REGULATOR
    assert [m.to for m in mail.outbox] == [["analyste@maillage.example"]]
    assert "Régulateur" in mail.outbox[0].body


def test_a_staff_account_never_holds_a_clinical_role(personas, chief) -> None:
    other = f.user("admin.trois", Role.ADMIN, is_staff=True)
    response = chief.post(
        f"/admin/accounts/user/{other.pk}/change/", _change_form(other, role=Role.DOCTOR)
    )
    assert response.status_code == 200
    assert "ne peut pas avoir un rôle clinique" in page_text(response)
    other.refresh_from_db()
    assert other.role == Role.ADMIN and not RoleGrant.objects.exists()


def test_allowed_changes_are_chained_listed_and_told(
    personas, chief, django_capture_on_commit_callbacks
) -> None:
    coordinator = personas.coordinator
    coordinator.email = "secretaire@maillage.example"
    coordinator.save(update_fields=["email"])

    with django_capture_on_commit_callbacks(execute=True):
        response = chief.post(
            f"/admin/accounts/user/{coordinator.pk}/change/",
            _change_form(coordinator, structures=[personas.msp.pk, personas.hospital.pk]),
        )
        assert response.status_code == 302
        chief.post(
            f"/admin/accounts/user/{coordinator.pk}/change/",
            _change_form(coordinator, is_active=""),
        )

    coordinator.refresh_from_db()
    assert not coordinator.is_active
    structures = _entries(Action.STRUCTURES_CHANGED, user=str(coordinator.uuid))
    assert structures[0].detail["added"] == ["Centre hospitalier de Bourges"]
    assert _entries(Action.ACCOUNT_DEACTIVATED, user=str(coordinator.uuid))
    subjects = [m.subject for m in mail.outbox if m.to == ["secretaire@maillage.example"]]
    assert len(subjects) == 2
    assert all("Girard" not in m.body for m in mail.outbox)  # no health data

    journal = page_text(chief.get("/admin/accounts/administrationentry/"))
    assert "a modifié les structures d'un compte" in journal
    assert "a désactivé un compte" in journal
    # The journal is not a window on the rest of the trail.
    patient_entry = AuditEntry.objects.exclude(patient=None).first()
    if patient_entry is None:
        from maillage.audit.actions import Event, record

        patient_entry = record(
            personas.treating_doctor.user,
            Event(action=Action.PATIENT_READ, patient=personas.patient),
        )
    url = f"/admin/accounts/administrationentry/{patient_entry.pk}/change/"
    assert chief.get(url).status_code in {302, 404}


def test_a_change_of_the_habilitation_matrix_is_chained(
    personas, chief, second_admin, django_capture_on_commit_callbacks
) -> None:
    from maillage.records.models import HabilitationRule

    second_admin.email = "deux@maillage.example"
    second_admin.save(update_fields=["email"])
    rule = HabilitationRule.objects.get(role="pharmacist", document_type="prescription")
    with django_capture_on_commit_callbacks(execute=True):
        response = chief.post(
            f"/admin/records/habilitationrule/{rule.pk}/change/",
            {"can_read": "", "can_write": "", "_save": "Enregistrer"},
        )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action=Action.HABILITATION_CHANGED)
    assert entry.detail["to"] == {"read": False, "write": False}
    assert entry.actor == personas.admin
    assert [m.to for m in mail.outbox] == [["deux@maillage.example"]]


def test_no_totp_key_on_any_admin_page(personas, chief) -> None:
    doctor = personas.treating_doctor.user
    device = TOTPDevice.objects.create(user=doctor, name="téléphone", confirmed=True)
    secrets = {device.key, device.key.upper()}
    import base64

    secrets.add(base64.b32encode(device.bin_key).decode().rstrip("="))
    pages = ["/admin/"]
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        base = f"/admin/{meta.app_label}/{meta.model_name}/"
        pages.append(base)
        first = model_admin.get_queryset(chief.get("/admin/").wsgi_request).first()
        if first is not None:
            pages.append(f"{base}{first.pk}/change/")
    pages += [
        f"/admin/otp_totp/totpdevice/{device.pk}/change/",
        f"/admin/otp_totp/totpdevice/{device.pk}/config/",
        f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/",
        f"/admin/accounts/user/{doctor.pk}/change/",
    ]
    for url in pages:
        html = chief.get(url, follow=True).content.decode()
        for secret in secrets:
            assert secret not in html, url
    assert chief.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/").status_code in {302, 404}


def test_removing_a_second_factor_is_chained_and_told(
    personas, chief, django_capture_on_commit_callbacks
) -> None:
    doctor = personas.treating_doctor.user
    doctor.email = "morel@maillage.example"
    doctor.save(update_fields=["email"])
    device = TOTPDevice.objects.create(user=doctor, name="téléphone", confirmed=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = chief.post(
            "/admin/otp_totp/totpdevice/",
            {"action": "delete_selected", "_selected_action": [device.pk], "post": "yes"},
        )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert _entries(Action.OTP_REMOVED, user=str(doctor.uuid))
    assert [m.to for m in mail.outbox] == [["morel@maillage.example"]]


def test_the_administrator_cannot_set_a_password(personas, chief) -> None:
    doctor = personas.treating_doctor.user
    before = doctor.password
    url = f"/admin/accounts/user/{doctor.pk}/password/"

    assert chief.get(url).status_code == 403
    response = chief.post(
        url, {"password1": "je suis le docteur 2026", "password2": "je suis le docteur 2026"}
    )

    assert response.status_code == 403
    doctor.refresh_from_db()
    assert doctor.password == before
    change_page = page_text(chief.get(f"/admin/accounts/user/{doctor.pk}/change/"))
    assert "password/" not in change_page and 'name="password' not in change_page


def test_a_reset_link_goes_to_the_user_instead(
    personas, chief, django_capture_on_commit_callbacks
) -> None:
    doctor = personas.treating_doctor.user
    doctor.email = "morel@maillage.example"
    doctor.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        response = chief.post(
            "/admin/accounts/user/",
            {"action": "send_password_reset", "_selected_action": [doctor.pk]},
        )
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["morel@maillage.example"]]
    body = mail.outbox[0].body
    assert "choisir" in body
    link = next(line for line in body.splitlines() if "/comptes/mot-de-passe/" in line)
    path = link[link.index("/comptes/") :]
    # The user follows the link and chooses a password the administrator never saw.
    anonymous = Client()
    form = anonymous.get(path, follow=True)
    assert "Choisissez votre mot de passe" in page_text(form)
    new = "un mot de passe bien à moi"
    done = anonymous.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    doctor.refresh_from_db()
    assert doctor.check_password(new)
    assert _entries(Action.PASSWORD_RESET_SENT, user=str(doctor.uuid))


def test_a_new_account_gets_no_password_from_the_administrator(
    personas, chief, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = chief.post(
            "/admin/accounts/user/add/",
            {
                "username": "nouvelle.infirmiere",
                "first_name": "Léa",
                "last_name": "Petit",
                "email": "lea.petit@maillage.example",
                "role": Role.NURSE,
                "_save": "Enregistrer",
            },
        )
    assert response.status_code == 302
    user = User.objects.get(username="nouvelle.infirmiere")
    assert user.role == ""  # the nurse role waits for a second administrator
    assert RoleGrant.objects.get(user=user).role == Role.NURSE
    assert _entries(Action.ACCOUNT_CREATED, user=str(user.uuid))
    assert [m.to for m in mail.outbox] == [["lea.petit@maillage.example"]]


def _reaches_patient(model: type[models.Model], depth: int = 3) -> bool:
    if model is Patient:
        return True
    if depth == 0:
        return False
    for field in model._meta.get_fields():
        target = getattr(field, "related_model", None)
        forward = field.many_to_one or field.one_to_one or field.many_to_many
        if (
            forward
            and not field.auto_created
            and isinstance(target, type)
            and _reaches_patient(target, depth - 1)
        ):
            return True
    return False


def test_no_patient_data_model_is_in_the_admin(personas, chief) -> None:
    request = chief.get("/admin/").wsgi_request
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label
        assert model._meta.app_label not in {
            "patients",
            "messaging",
            "files",
            "audit",
            "regulation",
            "policy",
        }, label
        if model._meta.app_label == "records":
            assert model._meta.model_name == "habilitationrule", label
        if _reaches_patient(model):
            # Only the administration journal, a proxy that filters patient entries out.
            assert label == "accounts.AdministrationEntry", label
            assert not model_admin.get_queryset(request).exclude(patient=None).exists()
        listing = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert chief.get(listing).status_code in {200, 403}, label
