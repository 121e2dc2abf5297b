"""A Statement answers what its queryset answers (``maillage.db.statements``).

Each case reads the same row both ways, the plain queryset and the
Statement compiled once, and compares every field of the instance and of
each ``select_related`` one, on the database the suite runs on.
"""

from __future__ import annotations

import datetime as dt
import uuid
from types import SimpleNamespace

import pytest
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext

from maillage.accounts.actions import _digest, create_api_token
from maillage.accounts.models import ApiToken
from maillage.audit.models import Action
from maillage.db.statements import Insert, Rows, Statement, native
from maillage.patients.models import Patient

pytestmark = pytest.mark.django_db

PATIENTS = Patient.objects.select_related("commune", "treating_doctor", "user")


def _fields(instance: Model | None) -> dict[str, object]:
    assert instance is not None
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_a_patient_and_its_related_rows_are_the_querysets(personas) -> None:
    by_uuid = Statement(PATIENTS, "uuid")
    patient = personas.patient
    expected = PATIENTS.get(uuid=patient.uuid)
    for _ in range(2):  # compiled on the first call, reused on the second
        found = by_uuid.first(patient.uuid)
        assert found is not None
        assert _fields(found) == _fields(expected)
        assert isinstance(found.uuid, uuid.UUID)
        assert isinstance(found.birth_date, dt.date)
        with CaptureQueriesContext(connection) as queries:
            # select_related: the related rows came with the patient.
            assert _fields(found.commune) == _fields(expected.commune)
            assert _fields(found.treating_doctor) == _fields(expected.treating_doctor)
            assert _fields(found.user) == _fields(expected.user)
        assert len(queries) == 0


def test_an_unknown_value_is_none_and_a_string_is_prepared_as_the_field_does(personas) -> None:
    by_uuid = Statement(PATIENTS, "uuid")
    assert by_uuid.first(uuid.uuid4()) is None
    found = by_uuid.first(str(personas.patient.uuid))
    assert found is not None and found.pk == personas.patient.pk


def test_a_reverse_one_to_one_and_a_char_field(personas) -> None:
    raw = create_api_token(personas.treating_doctor.user, "statement")
    tokens = ApiToken.objects.select_related("user", "user__professional")
    by_hash = Statement(tokens, "token_hash")
    found = by_hash.first(_digest(raw))
    expected = tokens.get(token_hash=_digest(raw))
    assert found is not None
    assert _fields(found) == _fields(expected)
    with CaptureQueriesContext(connection) as queries:
        assert found.user.professional.pk == personas.treating_doctor.pk
        assert _fields(found.user) == _fields(expected.user)
    assert len(queries) == 0
    assert by_hash.first(_digest("mlg_not-a-token")) is None


def test_a_statement_runs_one_query_each_time(personas) -> None:
    by_uuid = Statement(PATIENTS, "uuid")
    by_uuid.first(personas.patient.uuid)
    with CaptureQueriesContext(connection) as queries:
        by_uuid.first(personas.patient.uuid)
    assert len(queries) == 1
    assert "LIMIT 1" in queries[0]["sql"].upper()


def test_rows_by_a_foreign_key_are_the_querysets_in_its_order(personas) -> None:
    from maillage.records.models import Consent, ConsentKind

    patient = personas.patient
    for kind, granted in ((ConsentKind.SHARING, True), (ConsentKind.SHARING, False)):
        Consent.objects.create(
            patient=patient, kind=kind, granted=granted, recorded_by=personas.patient_user
        )
    Consent.objects.create(
        patient=patient,
        kind=ConsentKind.OPPOSE_PROFESSIONAL,
        granted=False,
        professional=personas.cardiologist,
        recorded_by=personas.patient_user,
    )
    columns = ("kind", "granted", "professional_id", "recorded_at", "withdrawn_at")
    consents = Consent.objects.order_by("-recorded_at", "-pk").values_list(*columns)
    by_patient = Rows(consents, "patient")
    expected = list(consents.filter(patient=patient))
    assert len(expected) >= 3
    assert by_patient.all(patient.pk) == expected
    assert isinstance(by_patient.all(patient.pk)[0][3], dt.datetime)
    assert by_patient.all(-1) == []


def test_an_insert_stores_what_bulk_create_stores(personas) -> None:
    from maillage.audit.actions import Event, _new_entry
    from maillage.audit.models import AuditEntry

    def entry(reason: str) -> AuditEntry:
        made = _new_entry(
            personas.treating_doctor.user,
            Event(
                action=Action.PATIENT_READ,
                patient=personas.patient,
                reason=reason,
                detail={"rule": "treating_doctor", "n": 1, "é": ["à", None]},
            ),
            "k1",
            dt.datetime(2026, 12, 4, 18, 40, 1, 123456, tzinfo=dt.UTC),
        )
        made.seq, made.prev_hash, made.hash = None, "p" * 64, reason * 64
        return made

    by_insert = [entry("a"), entry("b")]
    Insert(AuditEntry).save(by_insert)
    (by_orm,) = AuditEntry.objects.bulk_create([entry("c")])
    assert [e.pk for e in by_insert] == sorted(e.pk for e in by_insert)
    assert all(not e._state.adding for e in by_insert)
    stored = {
        e.pk: e for e in AuditEntry.objects.filter(pk__in=[by_orm.pk, *[e.pk for e in by_insert]])
    }
    ignored = {"id", "hash"}
    for made in by_insert:
        assert {k: v for k, v in _fields(stored[made.pk]).items() if k not in ignored} == {
            k: v for k, v in _fields(stored[by_orm.pk]).items() if k not in ignored
        } | {"reason": made.reason}


def test_more_rows_than_a_chunk_keep_their_order_and_keys(personas) -> None:
    from maillage.records.models import Consent, ConsentKind

    class Small(Insert[Consent]):
        CHUNK = 3

    made = [
        Consent(
            patient=personas.patient,
            kind=ConsentKind.SHARING,
            granted=n % 2 == 0,
            recorded_by=personas.patient_user,
        )
        for n in range(7)
    ]
    Small(Consent).save(made)
    keys = [c.pk for c in made]
    assert keys == sorted(keys) and len(set(keys)) == 7
    stored = dict(Consent.objects.filter(pk__in=keys).values_list("pk", "granted"))
    assert [stored[k] for k in keys] == [n % 2 == 0 for n in range(7)]


def test_on_postgresql_a_statement_is_prepared_on_its_connection(personas) -> None:
    # Bound on the server and prepared at its first run (settings'
    # prepare_threshold): the server keeps its plan for the next runs.
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    by_uuid = Statement(PATIENTS, "uuid")
    for _ in range(2):
        assert by_uuid.first(personas.patient.uuid) == personas.patient
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ['%FROM "patients_patient"%'],
        )
        (prepared,) = cursor.fetchone()
    assert prepared == 1


def test_native_writes_each_database_s_placeholders_and_keeps_literal_percents() -> None:
    sql = "SELECT a FROM t WHERE b = %s AND c LIKE '10%%s' AND d IN (%s, %s)"
    postgresql = SimpleNamespace(vendor="postgresql")  # only its vendor is read
    assert native(sql, postgresql) == (  # type: ignore[arg-type]
        "SELECT a FROM t WHERE b = $1 AND c LIKE '10%s' AND d IN ($2, $3)"
    )
    assert native(sql, SimpleNamespace(vendor="sqlite")) == (  # type: ignore[arg-type]
        "SELECT a FROM t WHERE b = ? AND c LIKE '10%s' AND d IN (?, ?)"
    )
    assert native(sql, SimpleNamespace(vendor="oracle")) == sql  # type: ignore[arg-type]
