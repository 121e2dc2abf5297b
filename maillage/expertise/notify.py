"""Telling people about a request: notices (no health data, a link) and live events (ids only).

Every notice of the workflow has an idempotency key (the request, the step,
the receiver and the request's version), so an action or a job that runs
again queues nothing more. Notices are rows written in the caller's
transaction and sent by the worker after the commit (``tasks.mail``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.translation import gettext as _

from maillage.accounts.notify import send_notice
from maillage.directory.models import Professional
from maillage.expertise.models import MessageKind, PoolMember, Request
from maillage.realtime.events import EXPERTISE_CHANGED, publish

if TYPE_CHECKING:
    from maillage.accounts.models import User


def path_of(request: Request) -> str:
    return reverse("expertise:detail", kwargs={"uuid": request.uuid})


def _notice(user: User, request: Request, step: str, subject: str, line: str) -> None:
    key = f"expertise:{request.uuid}:{step}:{user.pk}"
    send_notice(user, subject, [line], path_of(request), key=key)
    publish(user.pk, EXPERTISE_CHANGED, {"request": str(request.uuid), "step": step})


def changed(request: Request, *, exclude: Iterable[User] = ()) -> None:
    """A live event for the participants not told otherwise (their open page refreshes itself).

    Whoever got a notice of the same step got its event with it (``_notice``):
    the bell counts each step once.
    """
    skipped = {user.pk for user in exclude}
    for user in participants(request):
        if user.pk in skipped:
            continue
        publish(
            user.pk,
            EXPERTISE_CHANGED,
            {"request": str(request.uuid), "version": request.version},
        )


def participants(request: Request) -> list[User]:
    users = [request.requester]
    if request.assignee is not None and request.assignee.user is not None:
        users.append(request.assignee.user)
    return users


def asked(request: Request, receivers: Iterable[User]) -> None:
    for user in receivers:
        _notice(
            user,
            request,
            f"asked-v{request.version}",
            _("Maillage: a tele-expertise request awaits an answer"),
            _("A colleague asks for your opinion by tele-expertise."),
        )


def unstaffed(request: Request) -> None:
    """A pool with nobody available: its coordinators are told."""
    for user in coordinators(request):
        _notice(
            user,
            request,
            "unstaffed",
            _("Maillage: a tele-expertise pool has nobody available"),
            _("A request reached your pool, and no member answers tele-expertise now."),
        )


def coordinators(request: Request) -> list[User]:
    if request.pool_id is None:
        return []
    members = PoolMember.objects.filter(
        pool_id=request.pool_id, is_coordinator=True, professional__user__is_active=True
    ).select_related("professional__user")
    return [m.professional.user for m in members if m.professional.user is not None]


def taken(request: Request, *, by: User) -> None:
    """The requester learns who took the request; the pool's other members see it gone."""
    _notice(
        request.requester,
        request,
        "claimed",
        _("Maillage: your tele-expertise request was taken"),
        _("A specialist took your request."),
    )
    if request.pool_id is None:
        return
    others = Professional.objects.filter(
        expertise_pools__pool_id=request.pool_id, user__isnull=False
    ).exclude(user_id=by.pk)
    for entry in others.select_related("user"):
        if entry.user_id is not None:
            publish(
                entry.user_id, EXPERTISE_CHANGED, {"request": str(request.uuid), "step": "taken"}
            )


def to_requester(request: Request, kind: str) -> None:
    subjects: dict[str, str] = {
        MessageKind.INFO_REQUEST: _("Maillage: the specialist asks you for more"),
        MessageKind.RELEASED: _(
            "Maillage: your tele-expertise request changed after the patient's decision"
        ),
    }
    subject = subjects.get(kind, _("Maillage: the specialist answered your tele-expertise request"))
    _notice(
        request.requester,
        request,
        f"{kind}-v{request.version}",
        subject,
        _("Open the request to read it."),
    )


def to_specialist(request: Request) -> None:
    specialist = request.assignee.user if request.assignee is not None else None
    if specialist is None:
        return
    _notice(
        specialist,
        request,
        f"reply-v{request.version}",
        _("Maillage: the requester wrote in a tele-expertise request"),
        _("Open the request to read it."),
    )
