"""Pages of the agenda: first free slots, booking, an appointment, day and week views, rules,
absences and the private calendar feed.

Each view parses, opens through ``policy.agenda`` (or the agenda's manager
check, for what names no patient), calls one action, and renders. A rule an
action refuses comes back on the page in French, with what was typed.
"""

from __future__ import annotations

import datetime as dt
import uuid as uuid_lib
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from maillage.accounts.models import Role, User
from maillage.agenda import actions, ical, queries, slots
from maillage.agenda.forms import (
    AbsenceForm,
    BookForm,
    FeedForm,
    FreeSlotForm,
    PatientPickForm,
    RuleForm,
)
from maillage.agenda.models import (
    Absence,
    AppointmentStatus,
    CalendarFeed,
    FeedDetail,
    Modality,
    Schedule,
    SlotStatus,
    WeeklyRule,
)
from maillage.directory.models import Professional
from maillage.patients.queries import patients_matching
from maillage.policy import agenda as policy
from maillage.policy.gate import own_patient, search_patients


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not user.is_active:
        raise PermissionDenied
    return user


def _schedule(user: User, schedule_uuid: object) -> Schedule:
    """An agenda the user manages (no patient data: a 404 for any other)."""
    try:
        key = uuid_lib.UUID(str(schedule_uuid))
    except ValueError:
        raise Http404 from None
    schedule = queries.manageable_schedules(user).filter(uuid=key).first()
    if schedule is None:
        raise Http404
    return schedule


def _day(request: HttpRequest) -> dt.date:
    try:
        return dt.date.fromisoformat(request.GET.get("jour", ""))
    except ValueError:
        return timezone.localdate()


# --- Home, first free slots, booking --------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """A patient's appointments; a professional's or a secretary's agendas."""
    user = _user(request)
    if user.role == Role.PATIENT:
        patient = own_patient(user)
        rows = list(queries.upcoming_of_patient(patient.pk)[:50]) if patient else []
        policy.audit_listed(user, rows)
        now = timezone.now()
        return render(
            request,
            "agenda/mine.html",
            {
                "upcoming": [a for a in reversed(rows) if a.end > now],
                "past": [a for a in rows if a.end <= now],
            },
        )
    if not policy.may_book(user):
        raise PermissionDenied
    schedules = list(queries.manageable_schedules(user))
    houses = {s.structure.uuid: s.structure for s in schedules if s.structure is not None}
    return render(
        request,
        "agenda/agendas.html",
        {
            "schedules": schedules,
            "houses": list(houses.values()),
            "has_entry": Professional.objects.filter(user_id=user.pk).exists(),
        },
    )


@login_required
@require_GET
def free(request: HttpRequest) -> HttpResponse:
    """The first free slots of the territory, by specialty, modality and distance."""
    user = _user(request)
    if not policy.may_book(user):
        raise PermissionDenied
    form = FreeSlotForm(request.GET or None)
    hits = None
    patient = ""
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        patient = str(data["patient"] or "")
        hits = queries.first_free(
            queries.FreeSlotQuery(
                modality=data["modality"],
                specialty=data["specialty"],
                origin=data["commune"],
                radius_km=data["radius"],
            ),
            for_patient=user.role == Role.PATIENT,
            limit=20,
        )
    elif not form.is_bound:
        patient = request.GET.get("patient", "")
    return render(
        request,
        "agenda/free.html",
        {"form": form, "hits": hits, "patient": patient, "modality": form.data.get("modality")},
    )


def _picked_patients(request: HttpRequest, user: User) -> tuple[PatientPickForm, list[Any]]:
    """A staff member names the patient to book for: a search through the policy (audited)."""
    pick = PatientPickForm(request.GET or None)
    found: list[Any] = []
    if pick.is_bound and pick.is_valid() and pick.cleaned_data["q"]:
        found = search_patients(
            user,
            patients_matching(pick.cleaned_data["q"]),
            limit=10,
            described_as={"text": True, "for": "booking"},
        ).patients
    return pick, found


@login_required
@require_http_methods(["GET", "POST"])
def book(request: HttpRequest, slot_uuid: str) -> HttpResponse:
    user = _user(request)
    if not policy.may_book(user):
        raise PermissionDenied
    slot = actions.load_slot(slot_uuid)
    is_patient = user.role == Role.PATIENT
    own = own_patient(user) if is_patient else None
    form = BookForm(
        request.POST or None,
        slot_modality=slot.modality,
        initial={
            "patient": request.GET.get("patient", ""),
            "modality": request.GET.get("modality", ""),
        },
    )
    if request.method == "POST" and form.is_valid():
        patient_uuid = own.uuid if own is not None else form.cleaned_data["patient"]
        if patient_uuid is None:
            form.add_error(None, _("Choose the patient first."))
        else:
            try:
                appointment = actions.book(
                    user,
                    actions.Booking(
                        slot.uuid,
                        patient_uuid,
                        form.cleaned_data["modality"],
                        form.cleaned_data["reason"],
                    ),
                )
            except actions.BookingRefused as refused:
                form.add_error(
                    refused.field if refused.field in form.fields else None, refused.message
                )
            else:
                messages.success(request, _("The appointment is booked."))
                return redirect("agenda:appointment", uuid=appointment.uuid)
    pick, found = (None, []) if is_patient else _picked_patients(request, user)
    chosen = form.data.get("patient") or request.GET.get("patient", "")
    return render(
        request,
        "agenda/book.html",
        {
            "slot": slot,
            "form": form,
            "pick": pick,
            "found": found,
            "chosen": chosen,
            "is_patient": is_patient,
            "slot_taken": slot.status != SlotStatus.FREE,
        },
        status=400 if request.method == "POST" else 200,
    )


# --- One appointment --------------------------------------------------------------------


@login_required
@require_GET
def appointment(request: HttpRequest, uuid: str) -> HttpResponse:
    user = _user(request)
    access = policy.open_appointment(user, uuid)
    a = access.appointment
    now = timezone.now()
    booked = a.status == AppointmentStatus.BOOKED
    may_move = booked and a.start > now and not access.is_patient
    return render(
        request,
        "agenda/appointment.html",
        {
            "a": a,
            "is_patient": access.is_patient,
            "may_cancel": booked and a.start > now,
            "may_move": may_move,
            "move_to": queries.free_slots_to_move(a) if may_move else [],
            "may_noshow": booked and a.start <= now and not access.is_patient,
            # The room (maillage.teleconsult) makes the act of a remote appointment the
            # first time its patient or its doctor opens it.
            "may_join": booked
            and a.modality == Modality.REMOTE
            and (access.is_patient or a.professional.user_id == user.pk),
        },
    )


def _step(request: HttpRequest, uuid: str, done: str, run: Any) -> HttpResponse:
    try:
        result = run()
    except actions.BookingRefused as refused:
        messages.error(request, refused.message)
        return redirect("agenda:appointment", uuid=uuid)
    messages.success(request, done)
    return redirect("agenda:appointment", uuid=getattr(result, "uuid", uuid))


@login_required
@require_POST
def cancel(request: HttpRequest, uuid: str) -> HttpResponse:
    user = _user(request)
    reason = request.POST.get("reason", "")[:300]
    return _step(
        request,
        uuid,
        _("The appointment is cancelled; the other side is told."),
        lambda: actions.cancel(user, uuid, reason),
    )


@login_required
@require_POST
def move(request: HttpRequest, uuid: str) -> HttpResponse:
    user = _user(request)
    slot_uuid = request.POST.get("slot", "")
    return _step(
        request,
        uuid,
        _("The appointment is moved; the other side is told."),
        lambda: actions.move(user, uuid, slot_uuid),
    )


@login_required
@require_POST
def noshow(request: HttpRequest, uuid: str) -> HttpResponse:
    user = _user(request)
    return _step(
        request,
        uuid,
        _("The no-show is recorded."),
        lambda: actions.record_noshow(user, uuid),
    )


# --- Day and week views -------------------------------------------------------------------


def _period(
    user: User, schedule: Schedule, start: dt.datetime, end: dt.datetime
) -> tuple[list[Any], dict[int, Any]]:
    """The slots of the period and the appointments shown (each named patient audited)."""
    found = queries.slots_between(schedule, start, end)
    appointments = queries.appointments_between(schedule, start, end)
    shown = [a for a in appointments if policy.shows_patient(user, a)]
    policy.audit_listed(user, shown)
    by_slot = {a.slot_id: a for a in appointments if a.slot_id is not None}
    shown_ids = {a.pk for a in shown}
    rows = []
    for slot in found:
        a = by_slot.get(slot.pk)
        rows.append({"slot": slot, "a": a, "named": a is not None and a.pk in shown_ids})
    return rows, by_slot


@login_required
@require_GET
def day(request: HttpRequest, schedule_uuid: str) -> HttpResponse:
    user = _user(request)
    schedule = _schedule(user, schedule_uuid)
    when = _day(request)
    start, end = queries.day_bounds(when)
    rows, _by_slot = _period(user, schedule, start, end)
    return render(
        request,
        "agenda/day.html",
        {
            "schedule": schedule,
            "day": when,
            "rows": rows,
            "previous": when - dt.timedelta(days=1),
            "next": when + dt.timedelta(days=1),
            "week_start": when - dt.timedelta(days=when.weekday()),
        },
    )


@login_required
@require_GET
def week(request: HttpRequest, schedule_uuid: str) -> HttpResponse:
    user = _user(request)
    schedule = _schedule(user, schedule_uuid)
    first = _day(request)
    first -= dt.timedelta(days=first.weekday())
    start, _end = queries.day_bounds(first)
    _s, end = queries.day_bounds(first + dt.timedelta(days=6))
    rows, _by_slot = _period(user, schedule, start, end)
    days = []
    for offset in range(7):
        date = first + dt.timedelta(days=offset)
        days.append(
            {
                "date": date,
                "rows": [r for r in rows if timezone.localdate(r["slot"].start) == date],
            }
        )
    return render(
        request,
        "agenda/week.html",
        {
            "schedule": schedule,
            "days": days,
            "previous": first - dt.timedelta(days=7),
            "next": first + dt.timedelta(days=7),
        },
    )


@login_required
@require_GET
def house_day(request: HttpRequest, structure_uuid: str) -> HttpResponse:
    """One day of every agenda of a structure the user manages (the MSP's secretary)."""
    user = _user(request)
    schedules = list(
        queries.manageable_schedules(user)
        .filter(structure__uuid=structure_uuid)
        .order_by("professional__last_name", "pk")
    )
    if not schedules:
        raise Http404
    when = _day(request)
    start, end = queries.day_bounds(when)
    columns = [
        {"schedule": schedule, "rows": _period(user, schedule, start, end)[0]}
        for schedule in schedules
    ]
    return render(
        request,
        "agenda/house_day.html",
        {
            "structure": schedules[0].structure,
            "day": when,
            "columns": columns,
            "previous": when - dt.timedelta(days=1),
            "next": when + dt.timedelta(days=1),
        },
    )


# --- Rules and absences ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest, schedule_uuid: str) -> HttpResponse:
    """The weekly rules and the absences of an agenda, for whoever manages it."""
    user = _user(request)
    schedule = _schedule(user, schedule_uuid)
    rule_form = RuleForm(prefix="rule")
    absence_form = AbsenceForm(prefix="absence")
    to_move: list[Any] = []
    status = 200
    if request.method == "POST":
        if "rule-weekday" in request.POST:
            rule_form = RuleForm(request.POST, prefix="rule")
            if rule_form.is_valid() and _overlaps(schedule, rule_form.instance):
                rule_form.add_error(
                    None,
                    _(
                        "These hours overlap another availability of this professional "
                        "(in this agenda or another): one person, one slot at a time."
                    ),
                )
            if rule_form.is_valid():
                rule = rule_form.save(commit=False)
                rule.schedule = schedule
                rule.save()
                created = slots.rule_changed(rule)
                messages.success(request, _("Availability added: %(n)d slots.") % {"n": created})
                return redirect("agenda:manage", schedule_uuid=schedule.uuid)
            status = 400
        elif "absence-start" in request.POST:
            absence_form = AbsenceForm(request.POST, prefix="absence")
            if absence_form.is_valid():
                absence = absence_form.save(commit=False)
                absence.professional = schedule.professional
                absence.created_by = user
                absence.save()
                to_move = slots.absence_added(absence)
                messages.success(request, _("Absence recorded; its slots are closed."))
                if not to_move:
                    return redirect("agenda:manage", schedule_uuid=schedule.uuid)
            else:
                status = 400
        elif "delete-rule" in request.POST:
            rule = WeeklyRule.objects.filter(
                schedule=schedule, pk=_int(request.POST.get("delete-rule"))
            ).first()
            if rule is not None:
                slots.rule_removed(rule)
                rule.delete()
            return redirect("agenda:manage", schedule_uuid=schedule.uuid)
        elif "delete-absence" in request.POST:
            absence = Absence.objects.filter(
                professional=schedule.professional, pk=_int(request.POST.get("delete-absence"))
            ).first()
            if absence is not None:
                absence.delete()
                slots.absence_removed(absence)
            return redirect("agenda:manage", schedule_uuid=schedule.uuid)
    shown = [a for a in to_move if policy.shows_patient(user, a)]
    policy.audit_listed(user, shown)
    return render(
        request,
        "agenda/manage.html",
        {
            "schedule": schedule,
            "rules": list(schedule.rules.all()),
            "absences": list(
                Absence.objects.filter(
                    professional=schedule.professional, end__gt=timezone.now()
                ).order_by("start")
            ),
            "rule_form": rule_form,
            "absence_form": absence_form,
            "to_move": shown,
        },
        status=status,
    )


def _overlaps(schedule: Schedule, rule: WeeklyRule) -> bool:
    """Another rule of the same professional on that weekday with crossing hours."""
    return WeeklyRule.objects.filter(
        schedule__professional_id=schedule.professional_id,
        weekday=rule.weekday,
        start_time__lt=rule.end_time,
        end_time__gt=rule.start_time,
    ).exists()


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


# --- The private calendar feed ----------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def feed_settings(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    professional = Professional.objects.filter(user_id=user.pk).first()
    if professional is None:
        raise PermissionDenied
    feed = CalendarFeed.objects.filter(professional=professional).first()
    form = FeedForm(initial={"detail": feed.detail if feed else FeedDetail.BUSY})
    token = ""
    if request.method == "POST":
        if "revoke" in request.POST:
            ical.revoke(professional)
            messages.success(request, _("The feed's address no longer works."))
            return redirect("agenda:feed")
        form = FeedForm(request.POST)
        if form.is_valid():
            token = ical.new_token(professional)
            CalendarFeed.objects.filter(professional=professional).update(
                detail=form.cleaned_data["detail"]
            )
            feed = CalendarFeed.objects.get(professional=professional)
    return render(
        request,
        "agenda/feed.html",
        {
            "feed": feed,
            "form": form,
            "url": request.build_absolute_uri(reverse("agenda:ical", kwargs={"token": token}))
            if token
            else "",
        },
    )


@require_GET
def ical_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed itself: no session, the secret in the URL; 404 for a wrong or revoked one."""
    feed = ical.feed_of(token)
    if feed is None:
        raise Http404
    response = HttpResponse(ical.render(feed), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
