"""Reading messages: the inbox, the search, the directory suggestions for recipients."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from maillage.directory.models import Professional
from maillage.lib.identifiers import InvalidIdentifier, parse_rpps
from maillage.lib.names import normalise_name
from maillage.messaging.models import Attachment, Delivery, Message, Participant, Thread
from maillage.policy.messages import readable_threads_q

if TYPE_CHECKING:
    from maillage.accounts.models import User

# Entries of the recipients field are separated by semicolons or new lines.
SEPARATOR = "; "
_SPLIT = re.compile(r"[;\n]+")
_RPPS = re.compile(r"(?<!\d)(\d{11})(?!\d)")


def inbox(user: User, search: str = "") -> QuerySet[Thread]:
    """The user's threads, newest activity first, each with ``unread`` and its participants.

    Only the threads the policy lets the user read (``readable_threads_q``):
    the inbox never links to a thread that would answer "not found".
    """
    threads = (
        Thread.objects.filter(participants__user=user)
        .filter(readable_threads_q(user))
        .annotate(
            unread=Exists(
                Delivery.objects.filter(
                    message__thread=OuterRef("pk"), user=user, read_at__isnull=True
                )
            )
        )
        .prefetch_related(
            Prefetch("participants", queryset=Participant.objects.order_by("label", "pk"))
        )
        .order_by("-last_message_at", "-pk")
    )
    words = search.strip()
    if words:
        threads = threads.filter(
            Q(subject__icontains=words)
            | Q(pk__in=Message.objects.filter(body__icontains=words).values("thread_id"))
        )
    return threads


def thread_messages(thread: Thread) -> list[Message]:
    """The messages of a thread that ``policy.messages.get_thread`` handed out, oldest first."""
    return list(
        thread.messages.select_related("sender").prefetch_related(
            "deliveries",
            Prefetch("attachments", queryset=_attachments()),
            "refused_attachments",
        )
    )


def _attachments() -> QuerySet[Attachment]:
    return Attachment.objects.select_related("file", "filed_as", "source_document")


def suggestion_label(professional: Professional) -> str:
    """What a suggestion shows and what the recipients field accepts back."""
    what = professional.get_specialty_display() or professional.get_profession_display()
    return f"{professional.display_name} · {what} (RPPS {professional.rpps})"


def reachable_professionals() -> QuerySet[Professional]:
    """Professionals a message can reach: a Maillage account, or an MSSanté address."""
    return Professional.objects.filter(active=True).filter(
        Q(user__isnull=False, user__is_active=True) | ~Q(secure_messaging_address="")
    )


def suggest_recipients(typed: str, limit: int = 8) -> list[tuple[str, str]]:
    """(value, label) options for the recipients datalist, from the entry being typed.

    The browser replaces the whole field with the chosen option, so each value
    keeps the entries already typed before the last semicolon.
    """
    parts = _SPLIT.split(typed)
    current = parts[-1].strip()
    done = [p.strip() for p in parts[:-1] if p.strip()]
    key = normalise_name(current)
    if len(key) < 2:
        return []
    found = reachable_professionals()
    if key.isdigit():
        found = found.filter(rpps__startswith=key)
    else:
        found = found.filter(search_name__contains=key)
    prefix = SEPARATOR.join(done) + SEPARATOR if done else ""
    options = []
    for professional in found.order_by("last_name", "first_name")[:limit]:
        label = suggestion_label(professional)
        options.append((prefix + label, label))
    return options


@dataclass(frozen=True)
class ParsedRecipients:
    professionals: list[Professional]
    addresses: list[str]
    unknown: list[str]


def parse_recipients(typed: str) -> ParsedRecipients:
    """Entries of the recipients field: an RPPS number, a suggestion, or an address."""
    professionals: list[Professional] = []
    addresses: list[str] = []
    unknown: list[str] = []
    for raw in _SPLIT.split(typed):
        entry = raw.strip()
        if not entry:
            continue
        match = _RPPS.search(entry)
        if match is None and "@" in entry:
            addresses.append(entry)
            continue
        professional = _by_rpps(match.group(1)) if match else None
        if professional is None:
            unknown.append(entry)
        elif professional not in professionals:
            professionals.append(professional)
    return ParsedRecipients(professionals, addresses, unknown)


def _by_rpps(raw: str) -> Professional | None:
    try:
        rpps = parse_rpps(raw)
    except InvalidIdentifier:
        return None
    return Professional.objects.select_related("user").filter(rpps=rpps, active=True).first()


def split_addresses(typed: str) -> list[str]:
    return [a for a in re.split(r"[\s,;]+", typed) if a]


def professional_by_address(address: str) -> list[Professional]:
    """Directory entries with a Maillage account behind an MSSanté address (case-insensitive)."""
    return list(
        Professional.objects.select_related("user").filter(
            secure_messaging_address__iexact=address.strip(),
            active=True,
            user__isnull=False,
            user__is_active=True,
        )
    )
