"""Reading tele-expertise for the pages: the lists of one user, and what one opened request shows.

Every function takes the ``User`` whose own lists it reads, or the
``RequestAccess`` that ``policy.expertise`` handed out. The lists that show
a patient read only the requests the user takes part in (``participating``,
the relation EXPERTISE as rows) and their caller audits each patient shown
(``policy.expertise.audit_listed``). The rows about colleagues' requests
(taken by another member, late in a pool one coordinates) carry no patient
at all: a reference, a pool, a priority, times and a colleague's name.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import F, Prefetch, QuerySet
from django.utils import timezone

from maillage.audit.models import Action
from maillage.directory.models import Professional
from maillage.expertise.actions import answering
from maillage.expertise.models import (
    OPEN_STATUSES,
    RUNNING_STATUSES,
    Attachment,
    Message,
    Pool,
    PoolMember,
    PriorityCode,
    Request,
    Status,
)
from maillage.policy.expertise import RequestAccess, not_opposed_q, participating
from maillage.policy.relations import professional_id_of
from maillage.policy.table import POLICY

if TYPE_CHECKING:
    from maillage.accounts.models import User


class Tab:
    """The requester's list, in four parts (the URL's ``vue``)."""

    WAITING = "en-attente"
    REPLY = "a-completer"
    CONCLUDED = "terminees"
    DRAFTS = "brouillons"


_TAB_STATUSES: dict[str, tuple[str, ...]] = {
    Tab.WAITING: (Status.WAITING, Status.CLAIMED),
    Tab.REPLY: (Status.ON_HOLD,),
    Tab.CONCLUDED: (Status.CONCLUDED, Status.CANCELLED),
    Tab.DRAFTS: (Status.DRAFT,),
}
TABS = tuple(_TAB_STATUSES)


# What a row of the lists (``expertise/_row.html``) shows, and nothing else: a
# Patient or a Professional has dozens of columns, and reading them all cost
# more than the query itself on a queue of 500.
_ROW_FIELDS = (
    "uuid",
    "patient_id",
    "requester_id",
    "assignee_id",
    "specialty",
    "status",
    "due_at",
    "updated_at",
    "concluded_at",
    "cancelled_at",
    "patient__uuid",
    "patient__birth_name",
    "patient__used_name",
    "patient__used_given_name",
    "patient__first_birth_given_name",
    "pool__name",
    "priority__code",
    "priority__hours",
    *(
        f"{who}__{field}"
        for who in ("assignee", "requester_professional")
        for field in ("first_name", "last_name", "profession")
    ),
)


def _with_people(requests: QuerySet[Request]) -> QuerySet[Request]:
    return requests.select_related(
        "patient", "pool", "assignee", "priority", "requester_professional"
    ).only(*_ROW_FIELDS)


def asked_by(user: User, tab: str) -> QuerySet[Request]:
    """The user's own requests in one part of the list: what waits first, or newest first."""
    statuses = _TAB_STATUSES.get(tab, _TAB_STATUSES[Tab.WAITING])
    requests = _with_people(
        Request.objects.filter(requester=user, status__in=statuses).filter(not_opposed_q(user))
    )
    if tab in {Tab.WAITING, Tab.REPLY}:
        return requests.order_by(F("due_at").asc(nulls_last=True), "pk")
    return requests.order_by("-updated_at", "-pk")


def counts_asked_by(user: User) -> dict[str, int]:
    """How many requests each part of the requester's list holds (one query)."""
    counts = dict.fromkeys(TABS, 0)
    rows = Request.objects.filter(requester=user).values_list("status", flat=True)
    for status in rows:
        for tab, statuses in _TAB_STATUSES.items():
            if status in statuses:
                counts[tab] += 1
    return counts


def queue_of(user: User) -> QuerySet[Request]:
    """The specialist's queue: open requests assigned to them and their pools' untaken ones.

    Read through ``participating`` (the relation EXPERTISE), soonest due first.
    """
    return _with_people(
        participating(user)
        .filter(not_opposed_q(user))
        .exclude(requester_id=user.pk)
        .filter(status__in=OPEN_STATUSES)
        .order_by(F("due_at").asc(nulls_last=True), "pk")
    )


@dataclass(frozen=True)
class ColleagueRow:
    """A request of one of my pools that I do not take part in: no patient, no question."""

    reference: str
    pool: str
    priority: str
    hours: int
    due_at: dt.datetime | None
    claimed_at: dt.datetime | None
    assignee: str
    status: str

    @property
    def is_late(self) -> bool:
        return (
            self.status in RUNNING_STATUSES
            and self.due_at is not None
            and self.due_at <= timezone.now()
        )


_COLLEAGUE_FIELDS = (
    "uuid",
    "pool__name",
    "priority__code",
    "priority__hours",
    "due_at",
    "claimed_at",
    "assignee__first_name",
    "assignee__last_name",
    "assignee__profession",
    "status",
)


def colleague_rows(rows: Iterable[dict[str, Any]]) -> list[ColleagueRow]:
    """Rows read with ``_COLLEAGUE_FIELDS`` only (no patient), as the pages show them."""
    out = []
    for row in rows:
        assignee = ""
        if row["assignee__last_name"]:
            assignee = Professional(
                first_name=row["assignee__first_name"],
                last_name=row["assignee__last_name"],
                profession=row["assignee__profession"],
            ).display_name
        out.append(
            ColleagueRow(
                reference=str(row["uuid"])[:8],
                pool=row["pool__name"] or "",
                priority=str(PriorityCode(row["priority__code"]).label),
                hours=row["priority__hours"],
                due_at=row["due_at"],
                claimed_at=row["claimed_at"],
                assignee=assignee,
                status=row["status"],
            )
        )
    return out


def _colleague_rows(requests: QuerySet[Request]) -> list[ColleagueRow]:
    return colleague_rows(requests.values(*_COLLEAGUE_FIELDS))


def _my_pool_ids(user: User, *, coordinating: bool = False) -> list[int]:
    memberships = _memberships(user)
    return [pool for pool, coordinates in memberships if coordinates or not coordinating]


def _memberships(user: User) -> list[tuple[int, bool]]:
    """(pool, coordinates it) of the user's active pools, read once per user object (request)."""
    cached: list[tuple[int, bool]] | None = getattr(user, "_maillage_pools", None)
    if cached is not None:
        return cached
    professional_id = professional_id_of(user)
    found: list[tuple[int, bool]] = []
    if professional_id is not None:
        found = list(
            PoolMember.objects.filter(
                professional_id=professional_id, pool__active=True
            ).values_list("pool_id", "is_coordinator")
        )
    user._maillage_pools = found  # type: ignore[attr-defined]
    return found


def taken_by_colleagues(user: User, limit: int = 20) -> list[ColleagueRow]:
    """Open requests of my pools that another member took: I see them taken, not their patient."""
    pools = _my_pool_ids(user)
    professional_id = professional_id_of(user)
    if not pools or professional_id is None:
        return []
    requests = (
        Request.objects.filter(pool_id__in=pools, status__in=OPEN_STATUSES)
        .exclude(assignee__isnull=True)
        .exclude(assignee_id=professional_id)
        .exclude(requester_id=user.pk)
        .order_by("-claimed_at", "-pk")
    )
    return _colleague_rows(requests[:limit])


def coordinates_pools(user: User) -> bool:
    return bool(_my_pool_ids(user, coordinating=True))


def late_in_my_pools(user: User) -> QuerySet[Request, dict[str, Any]]:
    """Late requests of the pools the user coordinates, most overdue first (no patient shown)."""
    pools = _my_pool_ids(user, coordinating=True)
    return (
        Request.objects.filter(
            pool_id__in=pools, status__in=RUNNING_STATUSES, due_at__lte=timezone.now()
        )
        .order_by("due_at", "pk")
        .values(*_COLLEAGUE_FIELDS)
    )


def taken_elsewhere(user: User, request_uuid: object) -> ColleagueRow | None:
    """A request of one of my pools that a colleague took (the page says "taken", nothing more)."""
    try:
        wanted = uuid.UUID(str(request_uuid))
    except ValueError:
        return None
    pools = _my_pool_ids(user)
    if not pools:
        return None
    rows = _colleague_rows(
        Request.objects.filter(uuid=wanted, pool_id__in=pools)
        .exclude(status=Status.DRAFT)
        .exclude(assignee__isnull=True)
        .exclude(requester_id=user.pk)
    )
    return rows[0] if rows else None


def conversation(access: RequestAccess) -> list[Message]:
    """The messages of an opened request, oldest first, each with its attachments."""
    return list(
        access.request.messages.select_related("author").prefetch_related(
            Prefetch("attachments", queryset=Attachment.objects.select_related("file"))
        )
    )


def draft_attachments(access: RequestAccess) -> list[Attachment]:
    """The files added to a draft (not yet part of a message)."""
    return list(access.request.attachments.filter(message__isnull=True).select_related("file"))


def drafts_of(user: User, patient_id: int) -> QuerySet[Request]:
    """The user's drafts about one patient, newest first (the record's page offers them)."""
    return Request.objects.filter(requester=user, patient_id=patient_id, status=Status.DRAFT)


# --- The ask form's choices (directory data, no patient) ------------------------------


def answering_specialists() -> list[Professional]:
    """Who may be asked by name: the directory entries that answer tele-expertise now."""
    return list(answering(Professional.objects.all()).order_by("specialty", "last_name", "pk"))


def active_pools() -> list[Pool]:
    """Active pools, each with its answering members (``responders``) and their announced times."""
    pools = list(Pool.objects.filter(active=True).order_by("specialty", "name"))
    members = (
        answering(Professional.objects.filter(expertise_pools__pool__in=pools))
        .annotate(pool_id=F("expertise_pools__pool_id"))
        .order_by("last_name", "pk")
    )
    by_pool: dict[int, list[Professional]] = {}
    for member in members:
        by_pool.setdefault(member.pool_id, []).append(member)
    for pool in pools:
        pool.responders = by_pool.get(pool.pk, [])  # type: ignore[attr-defined]
    return pools


def professional_id(user: User) -> int | None:
    return professional_id_of(user)


def answers_expertise(user: User) -> bool:
    """Whether the user is a directory entry that answers tele-expertise (the queue is theirs)."""
    professional = professional_id_of(user)
    if professional is None:
        return False
    return (
        answering(Professional.objects.filter(pk=professional)).exists()
        or PoolMember.objects.filter(professional_id=professional).exists()
    )


def may_use_expertise(user: User) -> bool:
    """The roles the policy lets take part in a tele-expertise (the menu and the pages)."""
    return bool(user.is_authenticated) and user.role in POLICY[Action.EXPERTISE_READ]
