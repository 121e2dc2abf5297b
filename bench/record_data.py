"""The shared records of the benchmark: documents, their files, and care teams.

The bench doctor's own patients (the panel) have several documents each,
a long tail of them many: reports, prescriptions, results, letters, photos,
about half written by the bench doctor, the others by colleagues, specialists,
nurses and pharmacists as the habilitation matrix lets them. Some are replaced by a
newer version, some withdrawn. The other patients get documents too, so that
the table has the size a region gives it (about ``DOCUMENTS_PER_PATIENT``
a patient overall).

Rows are written with ``bulk_create``, like the patients: the record's
actions would seal a file on disk for each. So every document has its
``DocumentFile`` and ``StoredFile`` rows, but **no file exists on disk**
behind them: the pages measured list documents and never read the bytes
(a download would answer "corrupted").
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from bench.accounts_data import NURSE, PHARMACIST, SPECIALIST, People, Person, account
from bench.directory_data import BATCH, random_uuid
from maillage.files.models import StoredFile
from maillage.patients.models import Patient
from maillage.records.models import (
    CareTeamMember,
    CareTeamReason,
    Document,
    DocumentFile,
    DocumentStatus,
)
from maillage.records.models import DocumentType as T

DOCUMENTS_PER_PATIENT = 2.0  # in the whole table
# Documents of a panel patient: at least this many, plus an exponential tail.
PANEL_MIN_DOCUMENTS = 2
PANEL_TAIL_MEAN = 5.0
PANEL_MAX_DOCUMENTS = 40
REPLACED_SHARE = 0.07
WITHDRAWN_SHARE = 0.03
HIDDEN_FROM_PATIENT_SHARE = 0.04
SECOND_FILE_SHARE = 0.12
CHUNK = 5_000  # patients a transaction
# StoredFile.key_id of the fixture's files: they were never sealed (nothing on disk).
UNSEALED_KEY = "bench-unsealed"

TYPE_WEIGHTS: dict[str, float] = {
    T.LAB_RESULTS: 24,
    T.PRESCRIPTION: 22,
    T.TELECONSULTATION_REPORT: 12,
    T.LIAISON_LETTER: 10,
    T.IMAGING_REPORT: 8,
    T.PHOTO: 6,
    T.ECG: 5,
    T.TELEEXPERTISE_OPINION: 4,
    T.OTHER: 4,
    T.EMERGENCY_LIAISON: 3,
    T.SOUND: 2,
}
TITLES: dict[str, tuple[str, ...]] = {
    T.LAB_RESULTS: (
        "Bilan biologique",
        "Bilan biologique annuel",
        "INR de contrôle",
        "HbA1c et bilan rénal",
        "Bilan lipidique",
        "NFS, ionogramme",
    ),
    T.PRESCRIPTION: (
        "Ordonnance — renouvellement du traitement",
        "Ordonnance de soins infirmiers",
        "Ordonnance de kinésithérapie",
        "Ordonnance — antibiothérapie",
        "Prescription de matériel médical",
    ),
    T.TELECONSULTATION_REPORT: (
        "Téléconsultation de suivi — hypertension",
        "Téléconsultation — diabète de type 2",
        "Téléconsultation — renouvellement",
        "Téléconsultation assistée en pharmacie",
    ),
    T.LIAISON_LETTER: (
        "Courrier de sortie d'hospitalisation",
        "Lettre de liaison infirmière",
        "Courrier du cardiologue",
        "Compte rendu de consultation spécialisée",
    ),
    T.IMAGING_REPORT: (
        "Radiographie du thorax",
        "Échographie abdominale",
        "Scanner cérébral",
        "Mammographie de dépistage",
        "IRM du genou",
    ),
    T.PHOTO: ("Photo de plaie", "Photo de lésion cutanée", "Photo d'ulcère de jambe"),
    T.ECG: ("ECG de repos", "ECG — téléconsultation", "Holter ECG"),
    T.TELEEXPERTISE_OPINION: (
        "Avis de télé-expertise — dermatologie",
        "Avis de télé-expertise — cardiologie",
        "Avis de télé-expertise — plaies chroniques",
    ),
    T.OTHER: ("Questionnaire gériatrique", "Certificat", "Plan personnalisé de soins"),
    T.EMERGENCY_LIAISON: ("Dossier de liaison d'urgence (DLU)", "DLU — mise à jour"),
    T.SOUND: ("Auscultation pulmonaire", "Auscultation cardiaque"),
}
# (extension, MIME type, smallest and largest size in bytes)
FILE_KINDS: dict[str, tuple[str, str, int, int]] = {
    T.PHOTO: ("jpg", "image/jpeg", 400_000, 4_000_000),
    T.SOUND: ("wav", "audio/wav", 300_000, 3_000_000),
}
PDF = ("pdf", "application/pdf", 30_000, 900_000)
WITHDRAWAL_REASONS = (
    "Document versé dans le mauvais dossier",
    "Doublon",
    "Résultats d'un autre laboratoire, erronés",
)
# Who writes what, besides doctors (who write every type): the default matrix.
NURSE_WRITES = frozenset({T.LIAISON_LETTER, T.EMERGENCY_LIAISON, T.PHOTO, T.ECG, T.SOUND, T.OTHER})
PHARMACIST_WRITES = frozenset({T.PHOTO, T.ECG, T.SOUND})
SPECIALIST_TYPES = frozenset(
    {T.IMAGING_REPORT, T.TELEEXPERTISE_OPINION, T.LIAISON_LETTER, T.ECG, T.LAB_RESULTS}
)


@dataclass
class Records:
    documents: int = 0
    replaced: int = 0
    withdrawn: int = 0
    files: int = 0
    care_team: int = 0
    panel_documents: int = 0
    panel_current: int = 0
    panel_max_current: int = 0
    # Current documents of the panel's records, as (document pk, file pk), by patient pk:
    # what a message about a panel patient may carry from the record.
    attachable: dict[int, list[tuple[int, int]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Owner:
    """A patient whose record gets documents, with who writes most of them."""

    patient_id: int
    count: int
    doctor: Person
    panel: bool


def _pick_type(rng: random.Random) -> str:
    return rng.choices(list(TYPE_WEIGHTS), weights=list(TYPE_WEIGHTS.values()))[0]


def _author(rng: random.Random, doc_type: str, owner: Owner, people: People) -> Person:
    roll = rng.random()
    if doc_type in NURSE_WRITES and roll < 0.3 and people.by_kind.get(NURSE):
        return rng.choice(people.by_kind[NURSE])
    if doc_type in PHARMACIST_WRITES and roll < 0.4 and people.by_kind.get(PHARMACIST):
        return rng.choice(people.by_kind[PHARMACIST])
    if doc_type in SPECIALIST_TYPES and roll < 0.6 and people.by_kind.get(SPECIALIST):
        return rng.choice(people.by_kind[SPECIALIST])
    if owner.panel and people.colleagues and rng.random() < 0.12:
        # A colleague of the health house saw the patient while the doctor was away.
        return rng.choice(people.colleagues)
    return owner.doctor


def _files(
    rng: random.Random, doc_type: str, title: str, author: Person, count: int
) -> list[StoredFile]:
    ext, mime, low, high = FILE_KINDS.get(doc_type, PDF)
    stem = title.split(" — ")[0].lower().replace(" ", "-").replace("'", "-")
    return [
        StoredFile(
            uuid=random_uuid(rng),
            original_name=f"{stem}{'-' + str(n + 1) if count > 1 else ''}.{ext}"[:200],
            mime=mime,
            size=rng.randint(low, high),
            sha256=f"{rng.getrandbits(256):064x}",
            key_id=UNSEALED_KEY,
            created_by_id=author.user_id,
        )
        for n in range(count)
    ]


@dataclass
class _Chunk:
    documents: list[Document] = field(default_factory=list)
    newer: list[Document] = field(default_factory=list)
    files: list[StoredFile] = field(default_factory=list)
    # (document, its files) in writing order
    links: list[tuple[Document, list[StoredFile]]] = field(default_factory=list)


def _document(
    rng: random.Random, owner: Owner, people: People, now: dt.datetime
) -> tuple[Document, list[StoredFile], Person]:
    doc_type = _pick_type(rng)
    author = _author(rng, doc_type, owner, people)
    title = rng.choice(TITLES[doc_type])
    # Mostly recent, some years old.
    age = dt.timedelta(days=min(int(rng.expovariate(1 / 420)), 3650), minutes=rng.randint(0, 1440))
    created = now - age
    document = Document(
        uuid=random_uuid(rng),
        patient_id=owner.patient_id,
        type=doc_type,
        title=title,
        date=timezone.localdate(created) - dt.timedelta(days=rng.choice((0, 0, 0, 1, 2, 7))),
        author_id=account(author),
        author_label=author.label,
        created_at=created,
        hidden_from_patient=rng.random() < HIDDEN_FROM_PATIENT_SHARE,
        hidden_from_legal_representatives=rng.random() < 0.01,
    )
    count = 1
    if rng.random() < SECOND_FILE_SHARE:
        count = rng.randint(2, 3) if doc_type == T.PHOTO else 2
    return document, _files(rng, doc_type, title, author, count), author


def _newer_version(
    rng: random.Random, older: Document, author: Person, now: dt.datetime
) -> tuple[Document, list[StoredFile]]:
    """Only the author replaces a document: same type, a later filing."""
    created = min(now, older.created_at + dt.timedelta(days=rng.randint(0, 30), hours=2))
    document = Document(
        uuid=random_uuid(rng),
        patient_id=older.patient_id,
        type=older.type,
        title=f"{older.title} (corrigé)"[:200],
        date=older.date,
        author_id=older.author_id,
        author_label=older.author_label,
        created_at=created,
        replaces=older,
        hidden_from_patient=older.hidden_from_patient,
    )
    return document, _files(rng, older.type, older.title, author, 1)


def _draw(rng: random.Random, owners: Sequence[Owner], people: People, now: dt.datetime) -> _Chunk:
    chunk = _Chunk()
    for owner in owners:
        for _ in range(owner.count):
            document, files, author = _document(rng, owner, people, now)
            chunk.documents.append(document)
            chunk.links.append((document, files))
            roll = rng.random()
            if roll < REPLACED_SHARE:
                document.status = DocumentStatus.REPLACED
                newer, newer_files = _newer_version(rng, document, author, now)
                chunk.newer.append(newer)
                chunk.links.append((newer, newer_files))
            elif roll < REPLACED_SHARE + WITHDRAWN_SHARE:
                document.status = DocumentStatus.WITHDRAWN
                document.withdrawn_at = min(now, document.created_at + dt.timedelta(days=3))
                document.withdrawn_reason = rng.choice(WITHDRAWAL_REASONS)
    chunk.files = [f for _, files in chunk.links for f in files]
    return chunk


def _write(chunk: _Chunk) -> None:
    with transaction.atomic():
        StoredFile.objects.bulk_create(chunk.files, batch_size=BATCH)
        Document.objects.bulk_create(chunk.documents, batch_size=BATCH)
        # After the versions they replace, whose keys they need.
        Document.objects.bulk_create(chunk.newer, batch_size=BATCH)
        DocumentFile.objects.bulk_create(
            [
                DocumentFile(document_id=d.pk, file_id=f.pk, position=n)
                for d, files in chunk.links
                for n, f in enumerate(files)
            ],
            batch_size=BATCH * 2,
        )


def _count(chunk: _Chunk, records: Records) -> None:
    records.documents += len(chunk.documents) + len(chunk.newer)
    records.files += len(chunk.files)
    records.replaced += sum(1 for d in chunk.documents if d.status == DocumentStatus.REPLACED)
    records.withdrawn += sum(1 for d in chunk.documents if d.status == DocumentStatus.WITHDRAWN)


def _panel_owners(rng: random.Random, panel: list[int], people: People) -> list[Owner]:
    return [
        Owner(
            patient_id=pk,
            count=min(
                PANEL_MAX_DOCUMENTS,
                PANEL_MIN_DOCUMENTS + int(rng.expovariate(1 / PANEL_TAIL_MEAN)),
            ),
            doctor=people.bench,
            panel=True,
        )
        for pk in panel
    ]


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the small means used here."""
    if mean <= 0:
        return 0
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _write_panel(
    rng: random.Random, panel: list[int], people: People, now: dt.datetime, records: Records
) -> None:
    owners = _panel_owners(rng, panel, people)
    for start in range(0, len(owners), CHUNK):
        chunk = _draw(rng, owners[start : start + CHUNK], people, now)
        _write(chunk)
        _count(chunk, records)
        for document, files in chunk.links:
            if document.status == DocumentStatus.CURRENT:
                records.attachable.setdefault(document.patient_id, []).append(
                    (document.pk, files[0].pk)
                )
    records.panel_documents = records.documents
    current = [len(v) for v in records.attachable.values()]
    records.panel_current = sum(current)
    records.panel_max_current = max(current, default=0)


def _write_others(
    rng: random.Random,
    patients: int,
    panel: set[int],
    people: People,
    now: dt.datetime,
    records: Records,
    progress: Callable[[int], None],
) -> None:
    others = max(1, patients - len(panel))
    # Newer versions come on top of the documents drawn.
    wanted = (DOCUMENTS_PER_PATIENT * patients - records.documents) / (1 + REPLACED_SHARE)
    mean = max(0.0, wanted / others)
    bounds = Patient.objects.order_by("pk").values_list("pk", flat=True)
    first, last = bounds.first() or 0, bounds.last() or 0
    for start in range(first, last + 1, CHUNK):
        rows = Patient.objects.filter(pk__gte=start, pk__lt=start + CHUNK).values_list(
            "pk", "treating_doctor_id"
        )
        owners = []
        for pk, doctor_id in rows:
            if pk in panel:
                continue
            count = _poisson(rng, mean)
            doctor = people.by_professional.get(doctor_id) if doctor_id else None
            if count and doctor is not None and doctor.user_id is not None:
                owners.append(Owner(pk, count, doctor, panel=False))
        chunk = _draw(rng, owners, people, now)
        _write(chunk)
        _count(chunk, records)
        progress(records.documents)


def _care_teams(rng: random.Random, panel: list[int], people: People, now: dt.datetime) -> int:
    """A named nurse for some panel patients, a specialist for an act for others."""
    members = []
    for pk in panel:
        if rng.random() < 0.35 and people.by_kind.get(NURSE):
            members.append(
                CareTeamMember(
                    patient_id=pk,
                    professional_id=rng.choice(people.by_kind[NURSE]).professional_id,
                    reason=CareTeamReason.NAMED_BY_PATIENT,
                    added_at=now - dt.timedelta(days=rng.randint(30, 1500)),
                    added_by_id=people.bench.user_id,
                )
            )
        if rng.random() < 0.15 and people.by_kind.get(SPECIALIST):
            # Some acts are over: their place is no longer in force.
            until = now + dt.timedelta(days=rng.randint(-60, 180))
            members.append(
                CareTeamMember(
                    patient_id=pk,
                    professional_id=rng.choice(people.by_kind[SPECIALIST]).professional_id,
                    reason=CareTeamReason.ACT,
                    valid_until=until,
                    added_at=until - dt.timedelta(days=rng.choice((30, 90, 180))),
                    added_by_id=people.bench.user_id,
                )
            )
    CareTeamMember.objects.bulk_create(members, batch_size=BATCH)
    return len(members)


def build_records(
    rng: random.Random,
    patients: int,
    panel: list[int],
    people: People,
    progress: Callable[[int], None],
) -> Records:
    """Documents for the panel's records first, then for the rest of the table."""
    now = timezone.now()
    records = Records()
    _write_panel(rng, panel, people, now, records)
    records.care_team = _care_teams(rng, panel, people, now)
    _write_others(rng, patients, set(panel), people, now, records, progress)
    return records
