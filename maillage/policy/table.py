"""The policy table: for each purpose and role, the relations that grant it.

Data, not branches (as Medplum's access policies). A role absent from a
purpose may never do it; a relation absent may not open it. What the patient
decided (consents, masks) and what each profession may see (the habilitation
matrix) are applied afterwards, in ``maillage.policy.decide``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from maillage.accounts.models import Role
from maillage.audit.models import Action
from maillage.policy.relations import REASONED, Relation

if TYPE_CHECKING:
    from maillage.accounts.models import User

_FOLLOWERS = frozenset({Relation.TREATING_DOCTOR, Relation.CARE_STRUCTURE})
_STRUCTURE = frozenset({Relation.CARE_STRUCTURE})
_CARE = frozenset({Relation.CARE_TEAM, Relation.BREAK_GLASS})
_CASE = frozenset({Relation.REGULATION_CASE})
_SELF = frozenset({Relation.SELF})
# Linking an existing identity to one's structure needs proof a stranger does
# not have: the matricule INS with its key.
_PROOF = frozenset({Relation.INS_PROOF})
_VIGILANCE = frozenset({Relation.IDENTITY_VIGILANCE})
_EXCHANGE = frozenset({Relation.EXCHANGE})
# The shared record: the médecin traitant and the care team (CSP L.1111-17),
# an emergency opening, or an open regulation case.
_RECORD_DOCTOR = frozenset({Relation.TREATING_DOCTOR, *_CARE})
# A place in a teleconsultation of the patient (``policy.teleconsult``).
_TELECONSULT = frozenset({Relation.TELECONSULTATION})

# Roles that receive data about a patient by secure messaging: the
# professional and staff roles, never the patient, the analyst (aggregates
# only) or the administrator.
RECEIVING_ROLES = frozenset(
    {
        Role.DOCTOR,
        Role.NURSE,
        Role.MIDWIFE,
        Role.REHABILITATION,
        Role.PHARMACIST,
        Role.COORDINATOR,
        Role.REGULATOR,
        Role.TELEMONITORING,
        Role.SOCIAL_WORKER,
    }
)
# Who has an inbox at all: the administrator writes to colleagues about
# accounts, never about a patient (the policy gives him no relation).
MESSAGING_ROLES = RECEIVING_ROLES | {Role.ADMIN}

_IDENTITY_READ: Mapping[str, frozenset[Relation]] = {
    Role.PATIENT: _SELF,
    Role.DOCTOR: _FOLLOWERS | _CARE,
    Role.NURSE: _STRUCTURE | _CARE,
    Role.MIDWIFE: _STRUCTURE | _CARE,
    Role.REHABILITATION: _STRUCTURE | _CARE,
    Role.PHARMACIST: _STRUCTURE | _CARE,
    Role.COORDINATOR: _STRUCTURE,
    Role.TELEMONITORING: _STRUCTURE,
    Role.SOCIAL_WORKER: _STRUCTURE,
    Role.REGULATOR: _CASE,
}
_RECORD_READ: Mapping[str, frozenset[Relation]] = {
    Role.PATIENT: _SELF,
    Role.DOCTOR: _RECORD_DOCTOR,
    Role.NURSE: _CARE,
    Role.MIDWIFE: _CARE,
    Role.REHABILITATION: _CARE,
    Role.PHARMACIST: _CARE,
    Role.REGULATOR: _CASE,
}
# Writing needs a real place in the care team, not an emergency opening.
_RECORD_WRITE: Mapping[str, frozenset[Relation]] = {
    Role.DOCTOR: frozenset({Relation.TREATING_DOCTOR, Relation.CARE_TEAM}),
    Role.NURSE: frozenset({Relation.CARE_TEAM}),
    Role.MIDWIFE: frozenset({Relation.CARE_TEAM}),
    Role.REHABILITATION: frozenset({Relation.CARE_TEAM}),
    Role.PHARMACIST: frozenset({Relation.CARE_TEAM}),
}
# Tele-expertise: asked from the record by a professional who follows the
# patient or is in her care team (no emergency opening: the act is planned);
# read and written by those who take part in it (``policy.expertise`` then
# checks the request is theirs). Midwives, physiotherapists, orthoptists and
# speech therapists ask too (STANDARDS.md); doctors and midwives answer (the
# directory's flag and profession, ``expertise.actions.answering``).
_PARAMEDICAL_ASK = frozenset({Relation.CARE_STRUCTURE, Relation.CARE_TEAM})
_EXPERTISE_ASK: Mapping[str, frozenset[Relation]] = {
    Role.DOCTOR: frozenset({*_FOLLOWERS, Relation.CARE_TEAM}),
    Role.NURSE: _PARAMEDICAL_ASK,
    Role.MIDWIFE: _PARAMEDICAL_ASK,
    Role.REHABILITATION: _PARAMEDICAL_ASK,
}
_EXPERTISE: Mapping[str, frozenset[Relation]] = dict.fromkeys(
    _EXPERTISE_ASK, frozenset({Relation.EXPERTISE})
)
_RECEIVE: Mapping[str, frozenset[Relation]] = dict.fromkeys(RECEIVING_ROLES, _EXCHANGE)
# Agenda: the patient books for herself; a professional who follows her or is
# in her care team, the secretary of a structure that follows her, a
# regulator with an open case book for her (``policy.agenda`` then checks the
# agenda is one they may book in). The nurse or pharmacist who assisted an act
# of the patient books for her too while the act gives her a place: the
# orientation she proposed after the call and the patient accepted
# (``assisted.orientation``, which records the patient's choice first). An
# appointment is read and changed by the
# patient and by those who take part in it (its professional, the staff of its
# structure, its booker): ``policy.agenda`` checks it is *this* appointment.
_APPOINTMENT_BOOK: Mapping[str, frozenset[Relation]] = {
    Role.PATIENT: _SELF,
    Role.DOCTOR: frozenset({*_FOLLOWERS, Relation.CARE_TEAM}),
    Role.NURSE: frozenset({Relation.CARE_STRUCTURE, Relation.CARE_TEAM, *_TELECONSULT}),
    Role.MIDWIFE: frozenset({Relation.CARE_STRUCTURE, Relation.CARE_TEAM}),
    Role.REHABILITATION: frozenset({Relation.CARE_STRUCTURE, Relation.CARE_TEAM}),
    Role.PHARMACIST: frozenset({Relation.CARE_STRUCTURE, Relation.CARE_TEAM, *_TELECONSULT}),
    Role.COORDINATOR: _STRUCTURE,
    Role.REGULATOR: _CASE,
}
_APPOINTMENT: Mapping[str, frozenset[Relation]] = {
    Role.PATIENT: _SELF,
    **dict.fromkeys(
        (
            Role.DOCTOR,
            Role.NURSE,
            Role.MIDWIFE,
            Role.REHABILITATION,
            Role.PHARMACIST,
            Role.COORDINATOR,
            Role.REGULATOR,
        ),
        frozenset({Relation.APPOINTMENT}),
    ),
}

# Teleconsultation: opened by a doctor who follows the patient or is in her
# care team (the agenda's booking opens one too, for the doctor booked);
# entered and taken part in by the patient and by the professionals who have
# a place in it (``policy.teleconsult`` then checks the act is theirs).
# A doctor of the act files what was shared in the room, and its report.
_TELECONSULT_OPEN: Mapping[str, frozenset[Relation]] = {
    Role.DOCTOR: frozenset({*_FOLLOWERS, Relation.CARE_TEAM}),
}
_TELECONSULT_TAKE_PART: Mapping[str, frozenset[Relation]] = {
    Role.PATIENT: _SELF,
    Role.DOCTOR: _TELECONSULT,
    Role.NURSE: _TELECONSULT,
    Role.PHARMACIST: _TELECONSULT,
}
_DOCUMENT_CREATE: Mapping[str, frozenset[Relation]] = {
    **_RECORD_WRITE,
    Role.DOCTOR: _RECORD_WRITE[Role.DOCTOR] | _TELECONSULT,
}

# Measurements: read by whoever reads the record, and by the professionals of
# an act of the patient (``policy.measurements`` then shows them only that
# act's readings); written by a professional of the care team (the médecin
# traitant too), and by a professional of an open act for that act
# (``policy.measurements`` checks the act is theirs and names it).
_OBSERVATION_READ: Mapping[str, frozenset[Relation]] = {
    **_RECORD_READ,
    Role.DOCTOR: _RECORD_DOCTOR | _TELECONSULT,
    Role.NURSE: _CARE | _TELECONSULT,
    Role.PHARMACIST: _CARE | _TELECONSULT,
}
_OBSERVATION_WRITE: Mapping[str, frozenset[Relation]] = {
    **_RECORD_WRITE,
    Role.DOCTOR: _RECORD_WRITE[Role.DOCTOR] | _TELECONSULT,
    Role.NURSE: _RECORD_WRITE[Role.NURSE] | _TELECONSULT,
    Role.PHARMACIST: _RECORD_WRITE[Role.PHARMACIST] | _TELECONSULT,
}

POLICY: Mapping[str, Mapping[str, frozenset[Relation]]] = {
    Action.PATIENT_READ: _IDENTITY_READ,
    # Listing a patient needs what reading them needs; a patient searches nobody.
    Action.PATIENT_SEARCH: {r: v for r, v in _IDENTITY_READ.items() if r != Role.PATIENT},
    Action.PATIENT_UPDATE: {
        Role.DOCTOR: _FOLLOWERS,
        Role.NURSE: _STRUCTURE,
        Role.MIDWIFE: _STRUCTURE,
        Role.REHABILITATION: _STRUCTURE,
        Role.PHARMACIST: _STRUCTURE,
        Role.COORDINATOR: _STRUCTURE,
    },
    Action.PATIENT_LINK: {
        Role.DOCTOR: _PROOF,
        Role.NURSE: _PROOF,
        Role.MIDWIFE: _PROOF,
        Role.REHABILITATION: _PROOF,
        Role.PHARMACIST: _PROOF,
        Role.COORDINATOR: _PROOF,
    },
    # The patient sees each structure that follows her and may undo the link.
    Action.PATIENT_UNLINK: {Role.PATIENT: _SELF},
    Action.DUPLICATE_REVIEW: {
        Role.DOCTOR: _VIGILANCE,
        Role.NURSE: _VIGILANCE,
        Role.MIDWIFE: _VIGILANCE,
        Role.REHABILITATION: _VIGILANCE,
        Role.PHARMACIST: _VIGILANCE,
        Role.COORDINATOR: _VIGILANCE,
        Role.REGULATOR: _VIGILANCE,
    },
    Action.ACCESS_LOG_READ: {Role.PATIENT: _SELF},
    Action.RECORD_READ: _RECORD_READ,
    Action.DOCUMENT_READ: _RECORD_READ,
    Action.DOCUMENT_CREATE: _DOCUMENT_CREATE,
    Action.DOCUMENT_REPLACE: _RECORD_WRITE,
    Action.DOCUMENT_WITHDRAW: _RECORD_WRITE,
    # Bringing someone into the care team for an act needs what writing needs.
    Action.CARE_TEAM_CHANGE: _RECORD_WRITE,
    # Deciding on the record's consents, and reading them, is the patient's own:
    # professionals meet their effect, not their list.
    Action.CONSENT_CHANGE: {Role.PATIENT: _SELF},
    Action.CONSENT_READ: {Role.PATIENT: _SELF},
    # Writing about a patient to colleagues needs to know the patient.
    Action.MESSAGE_SEND: {r: v for r, v in _IDENTITY_READ.items() if r != Role.PATIENT},
    # Each receiver of an exchange, and of each record document in it.
    Action.MESSAGE_RECEIVE: _RECEIVE,
    Action.MESSAGE_READ: _RECEIVE,
    Action.DOCUMENT_RECEIVE: _RECEIVE,
    Action.EXPERTISE_ASK: _EXPERTISE_ASK,
    Action.EXPERTISE_READ: _EXPERTISE,
    Action.EXPERTISE_WRITE: _EXPERTISE,
    # A record document shared with a request, for each of its readers: the
    # document rules apply as for reading it in the record.
    Action.EXPERTISE_DOCUMENT: _EXPERTISE,
    Action.TELECONSULT_OPEN: _TELECONSULT_OPEN,
    Action.TELECONSULT_READ: _TELECONSULT_TAKE_PART,
    Action.TELECONSULT_WRITE: _TELECONSULT_TAKE_PART,
    Action.TELECONSULT_SIGNAL: _TELECONSULT_TAKE_PART,
    Action.APPOINTMENT_BOOK: _APPOINTMENT_BOOK,
    Action.APPOINTMENT_READ: _APPOINTMENT,
    Action.APPOINTMENT_WRITE: _APPOINTMENT,
    # Each receiver of a notice of an appointment (a reminder, a move...).
    Action.APPOINTMENT_RECEIVE: _APPOINTMENT,
    Action.OBSERVATION_READ: _OBSERVATION_READ,
    Action.OBSERVATION_WRITE: _OBSERVATION_WRITE,
    # A bulk export ($export) lists the patients reading them would, never
    # through an emergency opening or a regulation case: those are for one
    # patient in front of the professional, not for a list. A patient exports
    # herself. Each patient's documents are then decided as reading them is
    # (RECORD_READ and the document rules). A system client (SMART client
    # credentials) exports as the account it is bound to, through this row.
    Action.BULK_EXPORT: {
        role: relations - REASONED
        for role, relations in _IDENTITY_READ.items()
        if relations - REASONED
    },
}

# Purposes that concern a document: the document rules apply after the record's.
DOCUMENT_PURPOSES = frozenset(
    {
        Action.DOCUMENT_READ,
        Action.DOCUMENT_REPLACE,
        Action.DOCUMENT_WITHDRAW,
        Action.DOCUMENT_RECEIVE,
        Action.EXPERTISE_DOCUMENT,
    }
)

# Purposes the patient's opposition to a named professional does not close:
# being shown a possible duplicate prevents a second identity.
OPPOSITION_EXEMPT = frozenset({Action.DUPLICATE_REVIEW})

PATIENT_CREATORS = frozenset(
    {Role.DOCTOR, Role.NURSE, Role.PHARMACIST, Role.COORDINATOR, Role.REGULATOR}
)
# Who may open a record in an emergency (the habilitation matrix still applies).
BREAK_GLASS_ROLES = frozenset({Role.DOCTOR, Role.NURSE, Role.PHARMACIST})
REGULATION_ROLES = frozenset({Role.REGULATOR})


def allowed_relations(user: User, purpose: str) -> frozenset[Relation]:
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    return POLICY.get(purpose, {}).get(user.role, frozenset())


def uses_messaging(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.role in MESSAGING_ROLES
