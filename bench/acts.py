"""Teleconsultation acts: the eligibility shown on a page, and the closing of a report.

``python -m bench.acts [--appointments 2000] [--closings 20] [--iterations 200]``

Its own database (``bench.database``: SQLite in a temporary directory, or
``maillage_bench_acts`` on the server of DATABASE_URL). A cardiologist with
``--appointments`` in-person appointments this year across 500 patients
(the agenda), then:

- ``assess_for`` (the facts gathered from the record and the agenda, the
  rules of the day, the decision): what the booking and room pages pay to
  show the eligibility;
- ``acts.actions.close`` on ``--closings`` acts: the report closed, the act
  recorded, two PDFs rendered by WeasyPrint, filed and sealed, the message
  to the médecin traitant, in one transaction; and the two PDFs alone.

Prints figures and never fails on timing (no budget is written for these
in DESIGN.md; the page budget of 50 ms p95 is the one the eligibility
shares with its page).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence

from bench import standalone


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.acts", description=__doc__)
    parser.add_argument("--appointments", type=int, default=2_000, help="in-person this year")
    parser.add_argument("--closings", type=int, default=20, help="reports closed")
    parser.add_argument("--iterations", type=int, default=200, help="timed assessments")
    standalone.add_keep_db(parser)
    return parser.parse_args(argv)


def measure(args: argparse.Namespace) -> None:
    from django.db import connection
    from django.utils import timezone

    from maillage.acts import actions, write_once
    from maillage.acts.defaults import ensure_now
    from maillage.acts.facts import assess_for
    from maillage.acts.models import Orientation, RecordedAct
    from maillage.agenda.models import Appointment
    from maillage.directory.models import StructureKind
    from maillage.directory.terminology import Specialty
    from maillage.teleconsult.actions import create_consultation
    from maillage.teleconsult.models import Consultation, Participant, Status
    from maillage.testing import factories as f

    f.ensure_communes()
    f.ensure_habilitations()
    ensure_now()
    msp = f.structure("Maison de santé de Sancoins", StructureKind.MSP, "18242")
    gp = f.professional(
        "bench.gp", last_name="Morel", specialty=Specialty.GENERAL_PRACTICE, structures=(msp,)
    )
    cardiologist = f.professional("bench.cardio", last_name="Lefèvre", specialty="SM04")
    secretary = f.user("bench.secretaire", "coordinator")
    sancoins = f.commune("18242")
    patients = [
        f.patient(
            f"PATIENT{n:04d}",
            "Anne",
            treating_doctor=gp,
            commune=sancoins,
            followed_by=(msp,),
            with_matricule=False,
        )
        for n in range(500)
    ]
    now = timezone.now()
    year_start = timezone.make_aware(dt.datetime(now.year, 1, 1))
    span = max(int((now - year_start).total_seconds()) - 3600, 3600)
    Appointment.objects.bulk_create(
        Appointment(
            patient=patients[n % len(patients)],
            professional=cardiologist,
            start=year_start + dt.timedelta(seconds=(n * 7919) % span),
            end=year_start + dt.timedelta(seconds=(n * 7919) % span + 1200),
            modality="in_person",
            reason="Consultation",
            status="fulfilled",
            booked_by=secretary,
        )
        for n in range(args.appointments)
    )
    print(
        f"Fixture: {len(patients)} patients, {args.appointments} in-person appointments "
        f"({connection.vendor})"
    )

    patient = patients[7]
    standalone.show(
        "assess_for (facts + rules + decision)",
        standalone.timed(lambda: assess_for(patient, cardiologist, now), args.iterations),
    )

    content = actions.ReportContent(
        reason="Palpitations",
        observations="Pouls régulier.",
        conclusion="Extrasystoles bénignes.",
        prescriptions="Holter ECG des 24 heures.",
        follow_up="Revoir dans un mois.",
        orientation=Orientation.TREATING_DOCTOR,
    )
    acts = []
    for n in range(args.closings):
        consultation = create_consultation(
            patients[n], cardiologist, by=cardiologist.user, reason="Palpitations"
        )
        started = now - dt.timedelta(minutes=30)
        Consultation.objects.filter(pk=consultation.pk).update(
            status=Status.IN_PROGRESS, started_at=started
        )
        Participant.objects.filter(consultation=consultation).update(admitted_at=started)
        acts.append(consultation.uuid)
    pending = iter(acts)
    doctor = cardiologist.user
    assert doctor is not None
    standalone.show(
        "close (record, act, 2 PDFs filed, message)",
        standalone.timed(lambda: actions.close(doctor, next(pending), content), args.closings),
    )
    recorded = RecordedAct.objects.select_related("report").first()
    assert recorded is not None
    standalone.show(
        "render report + prescription PDFs alone",
        standalone.timed(
            lambda: (
                write_once.render_report(recorded.report, recorded),
                write_once.render_prescription(recorded.report, recorded),
            ),
            max(args.closings // 2, 5),
        ),
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    return standalone.run("maillage_bench_acts", lambda: measure(args), keep=args.keep_db)


if __name__ == "__main__":
    sys.exit(main())
