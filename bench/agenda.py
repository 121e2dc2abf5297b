"""Agenda: generating slots, the first free slots of the territory, booking.

``python -m bench.agenda [--agendas 200] [--bookings 200] [--iterations 50]``

Its own database (``bench.database``: SQLite in a temporary directory, or
``maillage_bench_agenda`` on the server of DATABASE_URL). ``--agendas``
general practitioners, each with an agenda at a structure in one of the
communes of the Cher (weekdays 9 to 12 in person or remote, 14 to 17 in person,
20-minute slots, 28 days ahead), then:

- ``slots.generate`` for every agenda (what the hourly job pays the first time);
- ``first_free`` (the 20 hits a page shows) remote (anywhere, soonest first) and in person within
  50 km of Sancoins (the distance provider over every agenda's place), as a
  patient searches;
- ``actions.book`` by the patient, one slot after another (the policy, the
  conditional UPDATE, the appointment, the notices and their audit).

Prints figures and never fails on timing (DESIGN.md's 50 ms p95 budget is
a page's; the search here is the page's main cost).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Sequence

from bench import standalone

# The hits the page shows (``agenda.views.free``): the search makes rows for those only.
PAGE = 20


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.agenda", description=__doc__)
    parser.add_argument("--agendas", type=int, default=200, help="agendas of the territory")
    parser.add_argument("--bookings", type=int, default=200, help="slots booked one by one")
    parser.add_argument("--iterations", type=int, default=50, help="timed searches")
    standalone.add_keep_db(parser)
    return parser.parse_args(argv)


def measure(args: argparse.Namespace) -> None:
    from django.db import connection
    from django.utils import timezone

    from maillage.agenda import actions, queries, slots
    from maillage.agenda.models import Schedule, Slot, SlotModality, SlotStatus, WeeklyRule
    from maillage.directory.models import StructureKind
    from maillage.directory.terminology import Specialty
    from maillage.territory.models import Commune
    from maillage.testing import factories as f

    f.ensure_communes()
    f.ensure_habilitations()
    communes = list(Commune.objects.filter(insee_code__startswith="18").order_by("insee_code"))
    schedules = []
    for n in range(args.agendas):
        commune = communes[n % len(communes)]
        place = f.structure(f"MSP {n}", StructureKind.MSP, commune.insee_code)
        doctor = f.professional(
            None,
            last_name=f"Medecin{n:04d}",
            specialty=Specialty.GENERAL_PRACTICE,
            structures=(place,),
        )
        schedule = Schedule.objects.create(professional=doctor, structure=place, horizon_days=28)
        for day in range(5):
            WeeklyRule.objects.create(
                schedule=schedule,
                weekday=day,
                start_time=dt.time(9),
                end_time=dt.time(12),
                modality=SlotModality.BOTH,
            )
            WeeklyRule.objects.create(
                schedule=schedule,
                weekday=day,
                start_time=dt.time(14),
                end_time=dt.time(17),
                modality=SlotModality.IN_PERSON,
            )
        schedules.append(schedule)
    started = time.perf_counter()
    made = sum(slots.generate(s) for s in schedules)
    took = time.perf_counter() - started
    print(
        f"Fixture: {len(schedules)} agendas, {made} slots generated in {took:.1f} s "
        f"({took / len(schedules) * 1000:.0f} ms an agenda) ({connection.vendor})"
    )
    sancoins = f.commune("18242")
    standalone.show(
        "first_free remote, anywhere",
        standalone.timed(
            lambda: queries.first_free(
                queries.FreeSlotQuery(modality="remote"), for_patient=True, limit=PAGE
            ),
            args.iterations,
        ),
    )
    standalone.show(
        "first_free in person, 50 km of Sancoins",
        standalone.timed(
            lambda: queries.first_free(
                queries.FreeSlotQuery(modality="in_person", origin=sancoins, radius_km=50),
                for_patient=True,
                limit=PAGE,
            ),
            args.iterations,
        ),
    )
    user = f.user("bench.patiente", "patient", email="patiente@example.org")
    patient = f.patient("BENCH", "Anne", user=user, with_matricule=False)
    free = list(
        Slot.objects.filter(
            status=SlotStatus.FREE, start__gt=timezone.now() + dt.timedelta(hours=2)
        )
        .order_by("start")
        .values_list("uuid", flat=True)[: args.bookings]
    )
    pending = iter(free)
    standalone.show(
        "book (policy, UPDATE, appointment, notices)",
        standalone.timed(
            lambda: actions.book(
                user, actions.Booking(next(pending), patient.uuid, "remote", "Bilan")
            ),
            len(free),
        ),
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    return standalone.run("maillage_bench_agenda", lambda: measure(args), keep=args.keep_db)


if __name__ == "__main__":
    sys.exit(main())
