"""Measurement benchmarks: one patient's readings among many, over FHIR and on the record page.

``python -m bench.measurements [--readings 500000] [--own 5000] [--iterations 100]``

Its own database, as ``bench.run`` (SQLite in a temporary directory, or
``maillage_bench_measurements`` on the server of DATABASE_URL), with a
fixture of its own: 2 000 patients, ``--readings`` readings spread over
them and over three years (blood pressure panels, SpO2, heart rate,
temperature, weight), of which ``--own`` are the followed patient's. Her
nurse, in her care team, then asks through Django's test client (an API
token for FHIR, a session past both factors for the page):

- ``Observation?patient=`` (the newest page), by code and a 30-day range;
- ``Observation/<id>`` (a read, its audit entry written);
- ``POST Observation`` (a reading checked, decided, stored, audited);
- the record page with its table of recent readings.

DESIGN.md plans 5 000 000 observations at regional scale (``--readings``);
prints figures and never fails on timing (p95 ≤ 50 ms for a record).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from bench import standalone
from bench.timing import Stats

CHUNK = 5_000


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.measurements", description=__doc__)
    parser.add_argument("--readings", type=int, default=500_000, help="readings in all")
    parser.add_argument("--own", type=int, default=5_000, help="the followed patient's readings")
    parser.add_argument("--iterations", type=int, default=100, help="timed requests of each kind")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests first")
    parser.add_argument("--keep-db", action="store_true", help="keep the database")
    return parser.parse_args(argv)


def _reading(rng: random.Random, patient: Any, nurse: Any, now: dt.datetime) -> Any:
    from maillage.measurements.models import Method, Observation

    taken = now - dt.timedelta(seconds=rng.randrange(3 * 365 * 86400))
    kind = rng.randrange(5)
    row = Observation(
        patient=patient,
        effective_at=taken,
        issued_at=taken,
        updated_at=taken,
        performer=nurse,
        performer_label="Bench Infirmière",
        method=Method.BLUETOOTH,
        category="vital-signs",
    )
    if kind == 0:
        row.code = "85354-9"
        row.components = [
            {"code": "8480-6", "value": str(rng.randrange(100, 180)), "unit": "mm[Hg]"},
            {"code": "8462-4", "value": str(rng.randrange(55, 110)), "unit": "mm[Hg]"},
        ]
    else:
        code, unit, low, high = (
            ("2708-6", "%", 85, 100),
            ("8867-4", "/min", 45, 130),
            ("8310-5", "Cel", 35, 40),
            ("29463-7", "kg", 45, 120),
        )[kind - 1]
        row.code, row.unit = code, unit
        row.value = Decimal(rng.randrange(low * 10, high * 10)) / 10
    return row


def build(readings: int, own: int) -> dict[str, Any]:
    from django.utils import timezone

    from maillage.accounts.models import Role
    from maillage.directory.models import StructureKind
    from maillage.directory.terminology import Profession
    from maillage.measurements.models import Observation
    from maillage.records.models import CareTeamMember, CareTeamReason
    from maillage.testing import factories as f

    rng = random.Random(12)
    f.ensure_communes()
    f.ensure_habilitations()
    msp = f.structure("MSP du banc", StructureKind.MSP)
    nurse = f.professional(
        "bench.nurse", last_name="Infirmière", profession=Profession.NURSE, structures=(msp,)
    )
    patients = [f.patient(f"PATIENT{n:04d}", "Anne", with_matricule=False) for n in range(2_000)]
    followed = patients[0]
    CareTeamMember.objects.create(
        patient=followed, professional=nurse, reason=CareTeamReason.NAMED_BY_PATIENT
    )
    assert nurse.user is not None and nurse.user.role == Role.NURSE
    now = timezone.now()
    started = time.perf_counter()
    chunk: list[Observation] = []
    for n in range(readings):
        patient = followed if n < own else patients[1 + n % (len(patients) - 1)]
        chunk.append(_reading(rng, patient, nurse.user, now))
        if len(chunk) >= CHUNK:
            Observation.objects.bulk_create(chunk)
            chunk = []
    Observation.objects.bulk_create(chunk)
    return {
        "nurse": nurse.user,
        "patient": followed,
        "one": Observation.objects.filter(patient=followed).values_list("uuid", flat=True)[0],
        "seconds": time.perf_counter() - started,
    }


def _time(action: Callable[[], object], iterations: int, warmup: int) -> Stats:
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return Stats.of(samples)


def _get(client: Any, path: str, **headers: str) -> Callable[[], object]:
    def get() -> object:
        response = client.get(path, **headers)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
        return response

    return get


def _post(client: Any, body: dict[str, Any], token: str) -> Callable[[], object]:
    def post() -> object:
        body["effectiveDateTime"] = dt.datetime.now(dt.UTC).isoformat()
        response = client.post(
            "/fhir/r4/Observation",
            json.dumps(body),
            content_type="application/fhir+json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        if response.status_code != 201:
            raise RuntimeError(f"POST Observation answered {response.status_code}")
        return response

    return post


def measure(args: argparse.Namespace) -> None:
    from django.db import connection
    from django.test import Client

    from bench.pages import profile, signed_in
    from bench.report import database_description
    from maillage.accounts.actions import create_api_token

    print(f"Building {args.readings:,} readings ({args.own:,} of one patient)...", file=sys.stderr)
    built = build(args.readings, args.own)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    print(f"Database: {database_description()}")
    print(f"Fixture: {args.readings:,} readings (inserted in {built['seconds']:.0f} s)")
    token = create_api_token(built["nurse"], "measurements benchmark")
    api = Client(HTTP_HOST="localhost")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    patient = f"Patient/{built['patient'].uuid}"
    since = (dt.date.today() - dt.timedelta(days=30)).isoformat()
    body = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2708-6"}]},
        "subject": {"reference": patient},
        "valueQuantity": {"value": 96, "system": "http://unitsofmeasure.org", "code": "%"},
    }
    page = signed_in(built["nurse"])
    record = f"/dossier/{built['patient'].uuid}/"
    cases: list[tuple[str, Callable[[], object]]] = [
        (
            "FHIR search, patient (newest page)",
            _get(api, f"/fhir/r4/Observation?patient={patient}", **auth),
        ),
        (
            "FHIR search, patient + code + 30 days",
            _get(
                api, f"/fhir/r4/Observation?patient={patient}&code=85354-9&date=ge{since}", **auth
            ),
        ),
        ("FHIR read", _get(api, f"/fhir/r4/Observation/{built['one']}", **auth)),
        ("FHIR create (POST Observation)", _post(api, body, token)),
        ("record page with recent readings", _get(page, record)),
    ]
    print(f"{'what':<42}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for name, action in cases:
        stats = _time(action, args.iterations, args.warmup)
        print(f"{name:<42}{stats.count:>6}{stats.p50:>10.1f}{stats.p95:>10.1f}{stats.max:>10.1f}")
    shown = profile(page, record)
    print(
        f"record page: {shown.queries} statements, {shown.sql_ms:.1f} ms in the database, "
        f"{shown.audit_entries} audit entries, {shown.gzip_bytes:,} bytes gzipped"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    return standalone.run("maillage_bench_measurements", lambda: measure(args), keep=args.keep_db)


if __name__ == "__main__":
    sys.exit(main())
