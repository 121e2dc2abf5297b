"""What each role finds in the menu and on its home page."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from maillage.accounts.models import Role, User
from maillage.expertise.queries import answers_expertise, coordinates_pools, may_use_expertise
from maillage.policy.agenda import may_book
from maillage.policy.gate import can_create, can_search, may_break_glass
from maillage.policy.messages import may_use_messaging
from maillage.policy.relations import professional_id_of
from maillage.regulation.actions import may_regulate
from maillage.tasks.access import may_watch_work


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
    if may_regulate(user):
        links.append(Link(_("Regulation"), reverse("regulation:cases")))
    if may_use_messaging(user):
        links.append(Link(_("Messaging"), reverse("messaging:inbox")))
    if may_use_expertise(user):
        links.append(Link(_("Tele-expertise"), reverse("expertise:mine")))
    if may_book(user):
        links.append(Link(_("Appointments"), reverse("agenda:home")))
    if user.role in {Role.PATIENT, Role.DOCTOR, Role.NURSE, Role.PHARMACIST}:
        links.append(Link(_("Teleconsultations"), reverse("teleconsult:index")))
    if user.role in {Role.NURSE, Role.PHARMACIST}:
        links.append(Link(_("After the call"), reverse("assisted:debriefs")))
    links.append(Link(_("Directory"), reverse("directory:search")))
    if user.role in {Role.ANALYST, Role.ADMIN}:
        links.append(Link(_("Indicators"), reverse("front:indicators")))
    if user.role == Role.ADMIN:
        links.append(Link(_("Administration"), reverse("admin:index")))
    if may_watch_work(user):
        links.append(Link(_("Background work"), reverse("tasks:work")))
    return links


def actions_for(user: User) -> list[Link]:
    """The cards of the home page: what this role can do here today."""
    is_patient = user.role == Role.PATIENT
    offers: list[tuple[bool, Link]] = [
        (
            may_book(user),
            Link(
                _("Appointments"),
                reverse("agenda:free"),
                _(
                    "The first free slots of the territory, remote or in person near you; "
                    "book, move or cancel."
                ),
            ),
        ),
        (
            is_patient,
            Link(
                _("My documents"),
                reverse("records:my_documents"),
                _("The documents your care team shared; you may hide one from the professionals."),
            ),
        ),
        (
            is_patient,
            Link(
                _("My choices about my record"),
                reverse("records:my_consents"),
                _("Sharing, your care team, oppositions, emergency access, and their history."),
            ),
        ),
        (
            is_patient,
            Link(
                _("My identity and my doctor"),
                reverse("patients:my_record"),
                _("Check the identity the professionals see and who your médecin traitant is."),
            ),
        ),
        (
            is_patient,
            Link(
                _("Who opened my record"),
                reverse("patients:my_access_log"),
                _("Every access to your data, by whom, when and why, refused ones included."),
            ),
        ),
        (
            can_search(user),
            Link(
                _("Find a patient"),
                reverse("patients:list"),
                _("Search the patients you follow by name and birth date."),
            ),
        ),
        (
            can_create(user),
            Link(
                _("Register a patient"),
                reverse("patients:create"),
                _("Create an identity with the INS traits; possible duplicates are shown first."),
            ),
        ),
        (
            may_use_messaging(user),
            Link(
                _("Secure messaging"),
                reverse("messaging:inbox"),
                _(
                    "Write to professionals of the directory, about a patient or not; "
                    "read receipts, attachments filed into the record in one click."
                ),
            ),
        ),
        (
            may_use_expertise(user),
            Link(
                _("Tele-expertise"),
                reverse("expertise:mine"),
                _(
                    "Ask a specialist or a pool from a patient's record; follow your requests: "
                    "waiting, to complete, concluded."
                ),
            ),
        ),
        (
            may_use_expertise(user) and answers_expertise(user),
            Link(
                _("Tele-expertise requests to answer"),
                reverse("expertise:queue"),
                _("Your queue and your pools' requests nobody took yet, the soonest due first."),
            ),
        ),
        (
            user.role == Role.DOCTOR,
            Link(
                _("Teleconsultation reports to write"),
                reverse("acts:to_write"),
                _(
                    "Your teleconsultations whose report is not closed: written once, "
                    "filed and sent."
                ),
            ),
        ),
        (
            user.role in {Role.NURSE, Role.PHARMACIST},
            Link(
                _("After the call"),
                reverse("assisted:debriefs"),
                _(
                    "The teleconsultations you assisted: the doctor's conclusion, the "
                    "prescription to print, the patient's orientation and her summary."
                ),
            ),
        ),
        (
            may_use_expertise(user) and professional_id_of(user) is not None,
            Link(
                _("Tele-expertise acts to bill"),
                reverse("expertise:billing"),
                _("Your RQD and TE2 acts of each month, as a file for a spreadsheet."),
            ),
        ),
        (
            user.role in {Role.ANALYST, Role.ADMIN} or coordinates_pools(user),
            Link(
                _("Tele-expertise response times"),
                reverse("expertise:figures"),
                _(
                    "Time to the first answer and to the conclusion, by specialty, pool and "
                    "month; the share concluded within its due time."
                ),
            ),
        ),
        (
            may_break_glass(user),
            Link(
                _("Emergency access to a record"),
                reverse("records:break_glass"),
                _(
                    "For a patient outside your care team whose health is at immediate risk; "
                    "recorded, shown to the patient and reviewed."
                ),
            ),
        ),
        (
            may_regulate(user),
            Link(
                _("Regulation cases"),
                reverse("regulation:cases"),
                _(
                    "Open a patient's data for a request, with a reason and for a few hours; "
                    "shown to the patient and reviewed."
                ),
            ),
        ),
        (
            True,
            Link(
                _("My API tokens"),
                reverse("accounts:tokens"),
                _("The tokens your applications use to reach the FHIR API; revoke one here."),
            ),
        ),
        (
            True,
            Link(
                _("My apps"),
                reverse("smart:apps"),
                _("The apps you allowed to use Maillage in your name; revoke one here."),
            ),
        ),
        (
            True,
            Link(
                _("Directory of the territory"),
                reverse("directory:search"),
                _(
                    "Professionals by specialty, profession and distance; structures and their "
                    "teleconsultation equipment."
                ),
            ),
        ),
        (
            user.role in {Role.ANALYST, Role.ADMIN},
            Link(
                _("Territorial indicators"),
                reverse("front:indicators"),
                _("Structures, professionals and patients per département, as aggregates only."),
            ),
        ),
        (
            user.role == Role.ADMIN,
            Link(
                _("Review of emergency accesses"),
                reverse("records:review_queue"),
                _("Was each opening of a record in an emergency justified? Record your review."),
            ),
        ),
        (
            user.role == Role.ADMIN,
            Link(
                _("Review of regulation cases"),
                reverse("regulation:review_queue"),
                _("Was each regulation case justified? Record your review."),
            ),
        ),
        (
            may_watch_work(user),
            Link(
                _("Background work"),
                reverse("tasks:work"),
                _("Mail, notices and periodic jobs: queued, running, failed and retried."),
            ),
        ),
        (
            user.role == Role.ADMIN,
            Link(
                _("Administration"),
                reverse("admin:index"),
                _("Structures, professionals and accounts. Patient data is not reachable here."),
            ),
        ),
    ]
    return [link for shown, link in offers if shown]
