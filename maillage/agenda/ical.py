"""A professional's private iCalendar feed (RFC 5545): a secret URL, revocable, detail chosen.

A calendar app (a phone's, a webmail's) fetches the feed without a session
and keeps what it receives on the device and often in a vendor's cloud,
outside our hosting. So what the feed says is the professional's choice
(``CalendarFeed.detail``), and the default says the least:

- ``busy`` (default): that a slot is booked, its modality and place; no patient;
- ``initials``: the patient's initials too;
- ``names``: the patient's name.

With initials or names, each patient is decided by the policy for the
professional (APPOINTMENT_READ, as their day view is) and each fetch
leaves one read entry per patient named, on the professional's account:
the patient sees in her log that her name went to her doctor's calendar.
The reason is never in the feed. The token is 32 random bytes shown once;
only its SHA-256 is stored; a new token revokes the old one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.utils import timezone
from django.utils.translation import gettext as _

from maillage.agenda.models import (
    Appointment,
    AppointmentStatus,
    CalendarFeed,
    FeedDetail,
    Modality,
)
from maillage.directory.models import Professional
from maillage.policy import agenda as policy

PAST_DAYS = 14
AHEAD_DAYS = 90


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(professional: Professional) -> str:
    """A fresh secret URL for the professional's feed; the previous one stops working."""
    token = secrets.token_urlsafe(32)
    feed, _created = CalendarFeed.objects.get_or_create(professional=professional)
    feed.token_hash = hash_token(token)
    feed.created_at = timezone.now()
    feed.revoked_at = None
    feed.save()
    return token


def revoke(professional: Professional) -> None:
    CalendarFeed.objects.filter(professional=professional).update(
        token_hash=None, revoked_at=timezone.now()
    )


def feed_of(token: str) -> CalendarFeed | None:
    if not token or len(token) > 100:
        return None
    feed = (
        CalendarFeed.objects.select_related("professional__user")
        .filter(token_hash=hash_token(token), revoked_at__isnull=True)
        .first()
    )
    return feed


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """Lines longer than 75 octets are folded (RFC 5545 3.1)."""
    out, current = [], line
    while len(current.encode()) > 75:
        cut = 74
        while len(current[:cut].encode()) > 74:
            cut -= 1
        out.append(current[:cut])
        current = " " + current[cut:]
    out.append(current)
    return "\r\n".join(out)


def _who(appointment: Appointment, detail: str) -> str:
    patient = appointment.patient
    last = patient.used_name or patient.birth_name
    first = patient.used_given_name or patient.first_birth_given_name
    if detail == FeedDetail.NAMES:
        return f"{last} {first}"
    return f"{first[:1]}. {last[:1]}."


def render(feed: CalendarFeed, now: dt.datetime | None = None) -> str:
    """The feed's text; patients named only as the policy allows, each named one audited."""
    now = now or timezone.now()
    professional = feed.professional
    appointments = list(
        Appointment.objects.filter(
            professional=professional,
            start__gte=now - dt.timedelta(days=PAST_DAYS),
            start__lt=now + dt.timedelta(days=AHEAD_DAYS),
        )
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("patient", "patient__user", "structure")
        .order_by("start")
    )
    user = professional.user
    named: list[Appointment] = []
    if feed.detail != FeedDetail.BUSY and user is not None:
        named = [a for a in appointments if policy.shows_patient(user, a)]
        policy.audit_listed(user, named)
    named_ids = {a.pk for a in named}
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Maillage//Agenda//FR",
        "CALSCALE:GREGORIAN",
        "X-WR-CALNAME:Maillage",
    ]
    for a in appointments:
        kind = _("Teleconsultation") if a.modality == Modality.REMOTE else _("Appointment")
        summary = f"{kind} — {_who(a, feed.detail)}" if a.pk in named_ids else str(kind)
        lines += [
            "BEGIN:VEVENT",
            f"UID:{a.uuid}@maillage",
            f"DTSTAMP:{_stamp(now)}",
            f"DTSTART:{_stamp(a.start)}",
            f"DTEND:{_stamp(a.end)}",
            f"SUMMARY:{_escape(summary)}",
            "CLASS:PRIVATE",
            "TRANSP:OPAQUE",
        ]
        if a.structure is not None and a.modality == Modality.IN_PERSON:
            lines.append(f"LOCATION:{_escape(a.structure.name)}")
        if a.status == AppointmentStatus.NOSHOW:
            lines.append("STATUS:CANCELLED")
        else:
            lines.append("STATUS:CONFIRMED")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    CalendarFeed.objects.filter(pk=feed.pk).update(last_read_at=now)
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
