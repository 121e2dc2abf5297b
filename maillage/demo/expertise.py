"""Tele-expertise in the demo: the territory's pools, and requests at every stage.

The pools are data (``data.POOLS``), written idempotently. The requests are
asked, taken, answered and concluded through the expertise actions (the
policy, the audit trail, the notices, the opinion's PDF rendered, filed in
the record and sent by secure messaging), as the professionals would.
Between two steps the request's clock is moved back: every time of the
request, of its messages and of the act's care-team place moves by the same
amount, so a request asked two days ago reads so and its durations and due
time agree. A conclusion is always the last step, done at the load, so the
opinion carries the date it was filed. The audit trail keeps the real times.

The stages: the demo patient's request concluded by the dermatologist (her
record gains the opinion); the médecin traitant's requests to the demo
cardiologist waiting in his pool, taken (with three of her office's blood
pressures shared), on hold for her reply, concluded; the nurse's urgent one
nobody took, late; one cancelled; a draft; one waiting for the dermatologist.
"""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F
from django.utils import timezone

from maillage.accounts.models import User
from maillage.demo import data
from maillage.demo import generate as gen
from maillage.demo.pdf import text_pdf
from maillage.directory.models import Professional, Structure
from maillage.expertise import actions, figures
from maillage.expertise.defaults import ensure as ensure_expertise_defaults
from maillage.expertise.models import (
    Attachment,
    Message,
    Pool,
    PoolKind,
    PoolMember,
    Priority,
    Recommendation,
    Request,
    Status,
    Tariff,
)
from maillage.files.storage import Upload
from maillage.measurements import actions as measurements
from maillage.measurements.models import Observation
from maillage.patients.models import Patient
from maillage.records.models import CareTeamMember, Document, DocumentType

# Times of a request, moved back together between two steps.
_REQUEST_TIMES = (
    "created_at",
    "updated_at",
    "consent_recorded_at",
    "submitted_at",
    "claimed_at",
    "first_answer_at",
    "due_at",
    "remind_half_at",
    "remind_ninety_at",
    "hold_started_at",
    "cancelled_at",
)


def ensure_pools(
    structures: dict[str, Structure], professionals: dict[tuple[str, str], Professional]
) -> int:
    """Write the missing pools and members; return how many rows were added."""
    ensure_expertise_defaults(Priority, Tariff)
    created = 0
    for item in data.POOLS:
        pool, made = Pool.objects.get_or_create(
            uuid=gen.stable_uuid("pool", item.key),
            defaults={
                "name": item.name,
                "kind": PoolKind.TEAM if item.structure else PoolKind.SPECIALTY,
                "specialty": item.specialty,
                "structure": structures[item.structure] if item.structure else None,
            },
        )
        created += made
        for first_name, last_name, coordinates in item.members:
            _, made = PoolMember.objects.get_or_create(
                pool=pool,
                professional=professionals[first_name, last_name],
                defaults={"is_coordinator": coordinates},
            )
            created += made
    return created


# --- Requests -----------------------------------------------------------------------


@dataclass(frozen=True)
class _People:
    gp: User
    nurse: User
    cardiologist: User
    dermatologist: User
    cardiology: Pool
    dermatology: Pool
    pneumology: Pool


def ensure_demo_requests(users: dict[str, User]) -> int:
    """Play the demo requests once (none of the médecin traitant's yet); return how many."""
    gp = users["medecin.traitant"]
    if Request.objects.filter(requester=gp).exists():
        return 0
    demo_patient = Patient.objects.filter(user=users["patient"]).first()
    if demo_patient is None:
        return 0
    people = _People(
        gp=gp,
        nurse=users["infirmier"],
        cardiologist=users["cardiologue"],
        dermatologist=users["dermatologue"],
        cardiology=_pool("cardio-cher"),
        dermatology=_pool("derm"),
        pneumology=_pool("pneumo-ch-bourges"),
    )
    before = Request.objects.count()
    others = _her_other_patients(people.gp, demo_patient, 7)
    _concluded_on_the_demo_patient(people, demo_patient)
    _concluded_by_the_cardiologist(people, others[0])
    _waiting_in_the_cardiology_pool(people, others[1])
    _taken_by_the_cardiologist(people, others[2])
    _on_hold_for_her_reply(people, others[3])
    _late_in_the_pool(people, others[4])
    _cancelled(people, others[5])
    _waiting_for_the_dermatologist(people, others[6])
    _draft(people, others[0])
    _reminders_already_sent()
    return Request.objects.count() - before


def _pool(key: str) -> Pool:
    return Pool.objects.get(uuid=gen.stable_uuid("pool", key))


def _her_other_patients(gp: User, demo_patient: Patient, count: int) -> list[Patient]:
    """Adults the médecin traitant follows, the same ones at every load (the draws are seeded)."""
    born_before = dt.date(1975, 1, 1)
    return list(
        Patient.objects.filter(treating_doctor__user=gp, birth_date__lt=born_before)
        .exclude(pk=demo_patient.pk)
        .order_by("uuid")[:count]
    )


def _earlier(request: Request, hours: float) -> None:
    """Everything that happened to the request so far happened ``hours`` earlier."""
    delta = dt.timedelta(hours=hours)
    Request.objects.filter(pk=request.pk).update(
        **{name: F(name) - delta for name in _REQUEST_TIMES}
    )
    Message.objects.filter(request=request).update(created_at=F("created_at") - delta)
    Attachment.objects.filter(request=request).update(added_at=F("added_at") - delta)
    request.refresh_from_db()
    if request.submitted_at is not None:
        Request.objects.filter(pk=request.pk).update(
            asked_month=figures.month_of(request.submitted_at)
        )
    if request.care_team_place_id is not None:
        CareTeamMember.objects.filter(pk=request.care_team_place_id).update(
            added_at=F("added_at") - delta, valid_until=F("valid_until") - delta
        )


def _ask(
    requester: User,
    patient: Patient,
    question: str,
    *,
    priority: str,
    pool: Pool | None = None,
    specialist: User | None = None,
    documents: Sequence[Document] = (),
    readings: Sequence[Observation] = (),
    uploads: Sequence[Upload] = (),
    send: bool = True,
) -> Request:
    draft = actions.save_draft(
        requester,
        patient.uuid,
        actions.Ask(
            question=question,
            priority=priority,
            pool_uuid=pool.uuid if pool else None,
            specialist_uuid=_entry(specialist).uuid if specialist else None,
            document_uuids=[d.uuid for d in documents],
            reading_uuids=[r.uuid for r in readings],
            uploads=uploads,
            consent=True,
        ),
    )
    return actions.submit(requester, draft.uuid) if send else draft


def _entry(user: User) -> Professional:
    return Professional.objects.get(user=user)


def _concluded_on_the_demo_patient(people: _People, patient: Patient) -> None:
    """A mole asked to the dermatology pool with a photo: taken, asked more, replied, concluded."""
    report = Document.objects.filter(
        patient=patient, type=DocumentType.TELECONSULTATION_REPORT
    ).first()
    request = _ask(
        people.gp,
        patient,
        "Lésion pigmentée du dos apparue il y a un an, qui s'étend depuis trois mois "
        "(photo jointe, prise en consultation). Surveillance ou exérèse ?",
        priority="soon",
        pool=people.dermatology,
        documents=[report] if report else [],
        uploads=[Upload("lesion-dos.png", lesion_png())],
    )
    _earlier(request, 20)
    actions.claim(people.dermatologist, request.uuid)
    _earlier(request, 1)
    actions.ask_for_more(
        people.dermatologist,
        request.uuid,
        "Quel est son plus grand diamètre ? Les bords sont-ils réguliers ? "
        "Une photo de plus près, avec une règle, m'aiderait.",
    )
    _earlier(request, 26)
    actions.reply(
        people.gp,
        request.uuid,
        "7 mm, bords irréguliers sur un côté, deux teintes de brun. Nouvelle photo avec la règle.",
        uploads=[Upload("lesion-regle.png", lesion_png(ruler=True))],
    )
    _earlier(request, 3)
    actions.conclude(
        people.dermatologist,
        request.uuid,
        actions.Conclusion(
            "Lésion asymétrique, polychrome, évolutive : exérèse à visée diagnostique "
            "recommandée. Je la vois en consultation au CH sous quinze jours ; "
            "d'ici là, photoprotection.",
            Recommendation.CONSULTATION,
        ),
    )


def _concluded_by_the_cardiologist(people: _People, patient: Patient) -> None:
    request = _ask(
        people.gp,
        patient,
        "Fibrillation atriale paroxystique découverte sur un ECG de routine, CHA2DS2-VASc à 3. "
        "Anticoagulation d'emblée en ville, ou avis en consultation d'abord ?",
        priority="soon",
        specialist=people.cardiologist,
        uploads=[
            Upload(
                "ecg.pdf",
                text_pdf(["ECG de repos", "Rythme irregulier, FC 96/min", "QRS fins"]),
            )
        ],
    )
    _earlier(request, 8)
    actions.claim(people.cardiologist, request.uuid)
    _earlier(request, 18)
    actions.conclude(
        people.cardiologist,
        request.uuid,
        actions.Conclusion(
            "Anticoagulation par apixaban 5 mg deux fois par jour dès maintenant (fonction "
            "rénale normale). Échographie cardiaque et téléconsultation avec moi dans un mois.",
            Recommendation.TELECONSULTATION,
        ),
    )


def _waiting_in_the_cardiology_pool(people: _People, patient: Patient) -> None:
    request = _ask(
        people.gp,
        patient,
        "Souffle systolique 2/6 au foyer aortique, asymptomatique. Échographie nécessaire ?",
        priority="routine",
        pool=people.cardiology,
    )
    _earlier(request, 5)


def _pressures_at_her_office(gp: User, patient: Patient) -> list[Observation]:
    """Three pressures the médecin traitant took over the last month, typed in her record."""
    now = timezone.now()
    taken = ((28, "168", "98"), (14, "172", "101"), (2, "165", "96"))
    return [
        measurements.record_observation(
            gp,
            patient,
            measurements.NewReading(
                code="85354-9",
                effective_at=now - dt.timedelta(days=days),
                components=(
                    measurements.Quantity(Decimal(systolic), "mm[Hg]", "8480-6"),
                    measurements.Quantity(Decimal(diastolic), "mm[Hg]", "8462-4"),
                ),
            ),
        )
        for days, systolic, diastolic in taken
    ]


def _taken_by_the_cardiologist(people: _People, patient: Patient) -> None:
    request = _ask(
        people.gp,
        patient,
        "Tension mal contrôlée malgré trois antihypertenseurs à dose pleine, dont un "
        "diurétique. Quel bilan avant de vous l'adresser ?",
        priority="soon",
        specialist=people.cardiologist,
        readings=_pressures_at_her_office(people.gp, patient),
    )
    _earlier(request, 17)
    actions.claim(people.cardiologist, request.uuid)
    _earlier(request, 3)


def _on_hold_for_her_reply(people: _People, patient: Patient) -> None:
    request = _ask(
        people.gp,
        patient,
        "Dyspnée d'effort récente, BNP à 420 pg/mL. Insuffisance cardiaque probable ?",
        priority="soon",
        specialist=people.cardiologist,
    )
    _earlier(request, 4)
    actions.claim(people.cardiologist, request.uuid)
    _earlier(request, 22)
    actions.ask_for_more(
        people.cardiologist,
        request.uuid,
        "Avez-vous un ECG récent et sa créatinine ? Des œdèmes des membres inférieurs ?",
    )
    _earlier(request, 4)


def _late_in_the_pool(people: _People, patient: Patient) -> None:
    """The nurse's urgent question that nobody took: past its due time, in the late list."""
    request = _ask(
        people.nurse,
        patient,
        "Patient sous anticoagulant : INR à 5,8 ce matin au domicile, sans saignement. "
        "Conduite à tenir ? Son médecin traitant est absent aujourd'hui.",
        priority="urgent",
        pool=people.cardiology,
    )
    _earlier(request, 30)


def _cancelled(people: _People, patient: Patient) -> None:
    request = _ask(
        people.gp,
        patient,
        "Nodule pulmonaire de 9 mm sur un scanner fait pour autre chose. Surveillance ?",
        priority="routine",
        pool=people.pneumology,
    )
    _earlier(request, 26)
    actions.cancel(people.gp, request.uuid, "Avis obtenu par téléphone auprès du service ; merci.")
    _earlier(request, 48)


def _waiting_for_the_dermatologist(people: _People, patient: Patient) -> None:
    request = _ask(
        people.gp,
        patient,
        "Plaques érythémato-squameuses des coudes et du cuir chevelu depuis six mois, "
        "résistantes aux dermocorticoïdes. Psoriasis ? Quel traitement de fond ?",
        priority="routine",
        pool=people.dermatology,
        uploads=[Upload("coude.png", lesion_png(colour=(205, 92, 92)))],
    )
    _earlier(request, 2)


def _draft(people: _People, patient: Patient) -> None:
    _ask(
        people.gp,
        patient,
        "Contrôle de l'échographie à un an : à demander ou non ?",
        priority="routine",
        send=False,
    )


def _reminders_already_sent() -> None:
    """Reminders whose time passed before the load count as sent then (the worker would have);
    an escalation is left to the worker, which sends it once when it runs."""
    now = timezone.now()
    running = Request.objects.filter(status__in=(Status.WAITING, Status.CLAIMED))
    running.filter(remind_half_at__lte=now, half_sent_at__isnull=True).update(
        half_sent_at=F("remind_half_at")
    )
    running.filter(remind_ninety_at__lte=now, ninety_sent_at__isnull=True).update(
        ninety_sent_at=F("remind_ninety_at")
    )


# --- A photo -------------------------------------------------------------------------


def lesion_png(*, ruler: bool = False, colour: tuple[int, int, int] = (110, 70, 45)) -> bytes:
    """A small PNG of skin with a darker oval (and a ruler's ticks): a believable photo."""
    width, height = 160, 120
    skin = (232, 190, 160)
    rows = []
    for y in range(height):
        row = bytearray([0])  # no filter
        for x in range(width):
            inside = ((x - 80) / 22) ** 2 + ((y - 56) / 16) ** 2 <= 1
            edge = ((x - 80) / 26) ** 2 + ((y - 58) / 19) ** 2 <= 1 and (x + y) % 7 < 3
            tick = ruler and y >= 104 and (x % 16 == 0 or y >= 116)
            pixel = (20, 20, 20) if tick else colour if inside or edge else skin
            row += bytes(pixel)
        rows.append(bytes(row))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )
