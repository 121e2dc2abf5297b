"""Secure messages of the benchmark: threads, participants, messages, deliveries, attachments.

The bench doctor takes part in ``DOCTOR_THREADS`` threads spread over three
years, most of them about their own patients or their health house's, with
nurses, specialists, pharmacists and colleagues; a few with a professional
outside Maillage (reached by SMTP, some answering back). The latest ones are
often unread, old ones rarely. Everyone else with an account exchanges too
(``THREADS_PER_PROFESSIONAL`` threads for each professional of the
directory), so that the tables have a size where an index matters.

Rows are written with ``bulk_create``: the messaging actions would seal
files, append audit entries and send notices by mail. Attachments have their
``StoredFile`` rows and **no file on disk** (the pages measured never read
one), or reuse the file of a document of the patient's record, as a message
written from the record does.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from bench.accounts_data import GP, NURSE, OUTSIDE, PHARMACIST, SPECIALIST, People, Person, account
from bench.directory_data import BATCH, random_uuid
from bench.record_data import UNSEALED_KEY
from maillage.files.models import StoredFile
from maillage.messaging.models import (
    Attachment,
    Delivery,
    DeliveryStatus,
    Message,
    Participant,
    Thread,
)

DOCTOR_THREADS = 2_000
THREADS_PER_PROFESSIONAL = 10  # threads among the others, per professional of the directory
CHUNK = 2_000  # threads a transaction
YEARS = 3
MAX_MESSAGES = 15
MEAN_EXTRA_MESSAGES = 1.8  # after the first
OUTSIDE_SHARE = 0.07  # threads with a participant outside Maillage
ATTACHMENT_SHARE = 0.07  # messages with files
FROM_RECORD_SHARE = 0.4  # of attachments in a thread about a panel patient
RECENT_DAYS = 10
RECENT_UNREAD_SHARE = 0.5  # of the bench doctor's recent threads
OLD_UNREAD_SHARE = 0.01
# The bench doctor's threads (most recent first) that the thread page opens in turn.
OPENED_THREADS = 60

# Whom the bench doctor writes with: about a patient, and otherwise.
ABOUT_PATIENT = {NURSE: 35, SPECIALIST: 30, PHARMACIST: 12, "colleague": 13, GP: 10}
ORGANISATIONAL = {"colleague": 50, GP: 20, NURSE: 10, PHARMACIST: 10, SPECIALIST: 10}

PATIENT_SUBJECTS = (
    "Suivi de plaie — pansements",
    "Résultats INR",
    "Demande d'avis cardiologique",
    "Sortie d'hospitalisation",
    "Renouvellement d'ordonnance",
    "Télé-expertise dermatologie",
    "Ajustement de l'insulinothérapie",
    "Bilan gériatrique",
    "Chute à domicile",
    "Résultats de biologie",
    "Passage infirmier du week-end",
    "Adaptation du traitement antihypertenseur",
)
OTHER_SUBJECTS = (
    "Garde du week-end",
    "Réunion de la maison de santé",
    "Protocole de coopération",
    "Commande de vaccins antigrippaux",
    "Planning des remplacements",
    "Formation CPTS",
    "Astreinte de la semaine prochaine",
)
OPENINGS = ("Bonjour,", "Bonjour Docteur,", "Chère consœur,", "Cher confrère,", "Bonjour à tous,")
SENTENCES = (
    "Je vous adresse le compte rendu de la consultation de ce jour.",
    "Pouvez-vous me rappeler au sujet du traitement anticoagulant ?",
    "Le bilan biologique est joint, la fonction rénale est stable.",
    "La patiente a été vue en téléconsultation ce matin au point de la pharmacie.",
    "Je passerai au domicile jeudi pour le pansement, la plaie bourgeonne bien.",
    "La tension reste élevée malgré le traitement, je propose d'augmenter la posologie.",
    "Merci pour votre retour rapide.",
    "Le rendez-vous de cardiologie est fixé au mois prochain.",
    "Les constantes du jour sont dans les objectifs.",
    "Il faudrait prévoir un ECG de contrôle avant la reprise.",
    "La famille souhaite un point téléphonique cette semaine.",
    "Je reste disponible pour en discuter.",
)
CLOSINGS = ("Bien confraternellement,", "Cordialement,", "Bonne journée,")


@dataclass
class Messaging:
    threads: int = 0
    participants: int = 0
    messages: int = 0
    deliveries: int = 0
    attachments: int = 0
    files: int = 0
    doctor_threads: int = 0
    # The bench doctor's threads, most recent first, for the thread page.
    opened: list[uuid.UUID] = field(default_factory=list)


@dataclass
class _Chunk:
    threads: list[Thread] = field(default_factory=list)
    participants: list[Participant] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    files: list[StoredFile] = field(default_factory=list)


@dataclass(frozen=True)
class _Draw:
    """What a thread is drawn from: its people, its patient, whose unread messages count."""

    members: list[Person]
    patient_id: int | None
    start: dt.datetime
    # The participant whose read receipts follow the bench doctor's pattern.
    bench_user_id: int | None = None


def _body(rng: random.Random, sender: Person) -> str:
    lines = rng.sample(SENTENCES, rng.randint(1, 4))
    return "\n\n".join(
        [rng.choice(OPENINGS), " ".join(lines), f"{rng.choice(CLOSINGS)}\n{sender.label}"]
    )


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _someone(rng: random.Random, people: People, kind: str) -> Person | None:
    pool = people.colleagues if kind == "colleague" else people.by_kind.get(kind, [])
    return rng.choice(pool) if pool else None


def _add_outside(rng: random.Random, people: People, members: list[Person]) -> None:
    # The directory gives every professional an MSSanté address.
    outside = people.by_kind.get(OUTSIDE, [])
    if outside and rng.random() < OUTSIDE_SHARE:
        members.append(rng.choice(outside))


def _unique(members: list[Person]) -> list[Person]:
    seen: set[int] = set()
    kept = []
    for person in members:
        if person.professional_id not in seen:
            seen.add(person.professional_id)
            kept.append(person)
    return kept


def _bench_draw(
    rng: random.Random, people: People, panel: Sequence[int], house: Sequence[int], now: dt.datetime
) -> _Draw:
    roll = rng.random()
    if roll < 0.6 and panel:
        patient_id: int | None = rng.choice(panel)
    elif roll < 0.72 and house:
        patient_id = rng.choice(house)
    else:
        patient_id = None
    weights = ABOUT_PATIENT if patient_id else ORGANISATIONAL
    count = rng.choices((1, 2, 3), weights=(70, 20, 10))[0]
    others = [_someone(rng, people, _weighted(rng, weights)) for _ in range(count)]
    members = _unique([people.bench, *(p for p in others if p is not None)])
    if len(members) == 1:
        members.append(rng.choice(people.colleagues or people.by_kind[GP]))
    _add_outside(rng, people, members)
    start = now - dt.timedelta(seconds=rng.uniform(0, YEARS * 365 * 86400))
    return _Draw(members, patient_id, start, bench_user_id=people.bench.user_id)


def _other_draw(
    rng: random.Random,
    inside: Sequence[Person],
    people: People,
    patients: Sequence[int],
    now: dt.datetime,
) -> _Draw:
    count = rng.choices((2, 3, 4), weights=(70, 22, 8))[0]
    members = _unique([rng.choice(inside) for _ in range(count)])
    if len(members) == 1:
        members.append(rng.choice(inside))
        members = _unique(members)
    _add_outside(rng, people, members)
    patient_id = rng.choice(patients) if patients and rng.random() < 0.55 else None
    start = now - dt.timedelta(seconds=rng.uniform(0, YEARS * 365 * 86400))
    return _Draw(members, patient_id, start)


def _times(
    rng: random.Random, start: dt.datetime, count: int, now: dt.datetime
) -> list[dt.datetime]:
    times = [start]
    for _ in range(count - 1):
        later = times[-1] + dt.timedelta(seconds=rng.expovariate(1 / 86400))
        if later >= now:
            later = times[-1] + (now - times[-1]) / 2
        times.append(later)
    return times


def _senders(rng: random.Random, members: list[Person], count: int) -> list[Person]:
    # Threads are mostly started from inside; an outside professional may answer.
    inside = [p for p in members if p.user_id is not None]
    senders = [rng.choice(inside)]
    for _ in range(count - 1):
        senders.append(rng.choice([p for p in members if p is not senders[-1]]))
    return senders


def _read_at(
    rng: random.Random, sent: dt.datetime, now: dt.datetime, unread: bool
) -> dt.datetime | None:
    if unread:
        return None
    return min(now, sent + dt.timedelta(seconds=rng.expovariate(1 / 21600)))


def _attach(
    rng: random.Random,
    message: Message,
    sender: Person,
    patient_id: int | None,
    attachable: dict[int, list[tuple[int, int]]],
    chunk: _Chunk,
) -> None:
    from_record = attachable.get(patient_id, []) if patient_id else []
    for position in range(rng.choices((1, 2, 3), weights=(80, 15, 5))[0]):
        if from_record and rng.random() < FROM_RECORD_SHARE:
            document_id, file_id = rng.choice(from_record)
            chunk.attachments.append(
                Attachment(
                    uuid=random_uuid(rng),
                    message=message,
                    file_id=file_id,
                    source_document_id=document_id,
                    position=position,
                )
            )
            continue
        photo = rng.random() < 0.3
        stored = StoredFile(
            uuid=random_uuid(rng),
            original_name=f"photo-{position + 1}.jpg" if photo else f"document-{position + 1}.pdf",
            mime="image/jpeg" if photo else "application/pdf",
            size=rng.randint(40_000, 3_000_000),
            sha256=f"{rng.getrandbits(256):064x}",
            key_id=UNSEALED_KEY,
            created_by_id=sender.user_id,
        )
        chunk.files.append(stored)
        chunk.attachments.append(
            Attachment(uuid=random_uuid(rng), message=message, file=stored, position=position)
        )


def _deliveries(
    rng: random.Random,
    message: Message,
    sender: Person,
    draw: _Draw,
    bench_unread: bool,
    now: dt.datetime,
) -> list[Delivery]:
    rows = []
    for member in draw.members:
        if member is sender:
            continue
        if member.user_id is None:
            if message.inbound:
                continue  # the gateway delivers inside only
            sent = rng.random() < 0.95
            rows.append(
                Delivery(
                    message=message,
                    address=member.address,
                    label=member.label,
                    status=DeliveryStatus.SENT if sent else DeliveryStatus.FAILED,
                    attempted_at=message.sent_at + dt.timedelta(seconds=rng.randint(1, 30)),
                    error="" if sent else "421 4.4.2 Délai dépassé sur le serveur MSSanté distant",
                )
            )
            continue
        if member.user_id == draw.bench_user_id:
            unread = bench_unread
        else:
            recent = now - message.sent_at < dt.timedelta(days=7)
            unread = rng.random() < (0.35 if recent else 0.05)
        rows.append(
            Delivery(
                message=message,
                user_id=member.user_id,
                label=member.label,
                status=DeliveryStatus.INTERNAL,
                read_at=_read_at(rng, message.sent_at, now, unread),
            )
        )
    return rows


def _thread(
    rng: random.Random,
    draw: _Draw,
    now: dt.datetime,
    attachable: dict[int, list[tuple[int, int]]],
    chunk: _Chunk,
) -> None:
    count = 1 + min(MAX_MESSAGES - 1, int(rng.expovariate(1 / MEAN_EXTRA_MESSAGES)))
    times = _times(rng, draw.start, count, now)
    senders = _senders(rng, draw.members, count)
    subjects = PATIENT_SUBJECTS if draw.patient_id else OTHER_SUBJECTS
    thread = Thread(
        uuid=random_uuid(rng),
        subject=rng.choice(subjects),
        patient_id=draw.patient_id,
        created_at=times[0],
        last_message_at=times[-1],
        created_by_id=senders[0].user_id,
    )
    chunk.threads.append(thread)
    chunk.participants += [
        Participant(
            thread=thread, user_id=p.user_id, address="" if p.user_id else p.address, label=p.label
        )
        for p in draw.members
    ]
    # The bench doctor has not yet read what came after their own last message.
    unread_from = len(senders)
    if draw.bench_user_id is not None:
        recent = now - times[-1] < dt.timedelta(days=RECENT_DAYS)
        if rng.random() < (RECENT_UNREAD_SHARE if recent else OLD_UNREAD_SHARE):
            own = [n for n, s in enumerate(senders) if s.user_id == draw.bench_user_id]
            unread_from = own[-1] + 1 if own else 0
    goes_out = any(p.user_id is None for p in draw.members)
    for n, (sent, sender) in enumerate(zip(times, senders, strict=True)):
        inbound = sender.user_id is None
        key = random_uuid(rng)
        message = Message(
            uuid=key,
            thread=thread,
            sender_id=sender.user_id,
            sender_label=sender.label,
            sender_address=sender.address,
            body=_body(rng, sender),
            sent_at=sent,
            inbound=inbound,
            message_id=(
                f"<{key.hex}@mssante.bench.invalid>"
                if inbound
                else f"<{key.hex}@maillage.bench.invalid>"
                if goes_out
                else ""
            ),
        )
        chunk.messages.append(message)
        chunk.deliveries += _deliveries(rng, message, sender, draw, n >= unread_from, now)
        if rng.random() < ATTACHMENT_SHARE:
            _attach(rng, message, sender, draw.patient_id, attachable, chunk)


def _write(chunk: _Chunk, result: Messaging) -> None:
    with transaction.atomic():
        Thread.objects.bulk_create(chunk.threads, batch_size=BATCH)
        Participant.objects.bulk_create(chunk.participants, batch_size=BATCH)
        StoredFile.objects.bulk_create(chunk.files, batch_size=BATCH)
        Message.objects.bulk_create(chunk.messages, batch_size=BATCH)
        Delivery.objects.bulk_create(chunk.deliveries, batch_size=BATCH)
        Attachment.objects.bulk_create(chunk.attachments, batch_size=BATCH)
    result.threads += len(chunk.threads)
    result.participants += len(chunk.participants)
    result.messages += len(chunk.messages)
    result.deliveries += len(chunk.deliveries)
    result.attachments += len(chunk.attachments)
    result.files += len(chunk.files)


def _in_chunks(
    rng: random.Random,
    total: int,
    draw: Callable[[], _Draw],
    now: dt.datetime,
    attachable: dict[int, list[tuple[int, int]]],
    result: Messaging,
) -> None:
    for start in range(0, total, CHUNK):
        chunk = _Chunk()
        for _ in range(min(CHUNK, total - start)):
            _thread(rng, draw(), now, attachable, chunk)
        _write(chunk, result)


def build_messaging(
    rng: random.Random,
    people: People,
    *,
    professionals: int,
    panel: Sequence[int],
    house: Sequence[int],
    patients: Sequence[int],
    attachable: dict[int, list[tuple[int, int]]],
) -> Messaging:
    """The bench doctor's threads first, then everyone else's."""
    now = timezone.now()
    result = Messaging()
    _in_chunks(
        rng,
        DOCTOR_THREADS,
        lambda: _bench_draw(rng, people, panel, house, now),
        now,
        attachable,
        result,
    )
    result.doctor_threads = result.threads
    inside = [
        p for kind, pool in people.by_kind.items() if kind != OUTSIDE for p in pool if p.user_id
    ]
    _in_chunks(
        rng,
        professionals * THREADS_PER_PROFESSIONAL,
        lambda: _other_draw(rng, inside, people, patients, now),
        now,
        attachable,
        result,
    )
    result.opened = list(
        Thread.objects.filter(participants__user_id=account(people.bench))
        .order_by("-last_message_at", "-pk")
        .values_list("uuid", flat=True)[:OPENED_THREADS]
    )
    return result
