"""What each role finds in the menu and on its home page."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from maillage.accounts.models import Role, User
from maillage.patients.access import can_create, can_search


@dataclass(frozen=True)
class Link:
    label: str | Promise
    url: str
    description: str | Promise = ""


def menu_for(user: User) -> list[Link]:
    links = [Link(_("Home"), reverse("front:home"))]
    if user.role == Role.PATIENT:
        links.append(Link(_("My record"), reverse("patients:my_record")))
    if can_search(user):
        links.append(Link(_("Patients"), reverse("patients:list")))
    links.append(Link(_("Directory"), reverse("directory:search")))
    if user.role in {Role.ANALYST, Role.ADMIN}:
        links.append(Link(_("Indicators"), reverse("front:indicators")))
    if user.role == Role.ADMIN:
        links.append(Link(_("Administration"), reverse("admin:index")))
    return links


def actions_for(user: User) -> list[Link]:
    """The cards of the home page: what this role can do here today."""
    cards: list[Link] = []
    if user.role == Role.PATIENT:
        cards.append(
            Link(
                _("My identity and my doctor"),
                reverse("patients:my_record"),
                _("Check the identity the professionals see and who your médecin traitant is."),
            )
        )
        cards.append(
            Link(
                _("Who opened my record"),
                reverse("patients:my_record") + "#acces",
                _("Every access to your data, by whom, when and why, refused ones included."),
            )
        )
    if can_search(user):
        cards.append(
            Link(
                _("Find a patient"),
                reverse("patients:list"),
                _("Search the patients you follow by name and birth date."),
            )
        )
    if can_create(user):
        cards.append(
            Link(
                _("Register a patient"),
                reverse("patients:create"),
                _("Create an identity with the INS traits; possible duplicates are shown first."),
            )
        )
    cards.append(
        Link(
            _("Directory of the territory"),
            reverse("directory:search"),
            _(
                "Professionals by specialty, profession and distance; structures and their "
                "teleconsultation equipment."
            ),
        )
    )
    if user.role in {Role.ANALYST, Role.ADMIN}:
        cards.append(
            Link(
                _("Territorial indicators"),
                reverse("front:indicators"),
                _("Structures, professionals and patients per département, as aggregates only."),
            )
        )
    if user.role == Role.ADMIN:
        cards.append(
            Link(
                _("Administration"),
                reverse("admin:index"),
                _("Structures, professionals and accounts. Patient data is not reachable here."),
            )
        )
    return cards
