"""Assisted teleconsultations in the demo: past sessions of the vans and a pharmacy booth, and
the nurse's coming visit.

Each past session is held as a real one would be, through the actions and
the one policy: the act made for the remote doctor; the nurse or pharmacist
added beside the patient by the doctor (``assisted.actions.add_assistant``,
her act code and the place: a mobile unit or the pharmacy's closed room);
the doctor's requests; the readings she took (``measurements.actions``: an
Observation each, the Device of the place's equipment registered by its
system id, the assistant as performer, the act as encounter); a captured
photo and an ECG tracing as Media (sealed files); the doctor's marks; then
the act ended and its report closed by ``acts.actions.close`` (the PDFs
rendered, filed in the record and sent, the act recorded with its billing).
Only the times are written afterwards (the act's start and end, when each
reading was taken), as ``demo.teleconsult`` does for its past act: actions
stamp "now".

The sessions: the demo patient with ``infirmier`` in the van of the Val
d'Aubois (blood pressure, SpO2, an ECG); a patient of Sancoins in the booth
of ``pharmacien``'s pharmacy; one in each van of Loir-et-Cher (Perche,
Sologne), whose nurse belongs to the MSP the van goes out from and whose
GP, the patient's médecin traitant, teleconsults from there. ``infirmier`` also has a
visit tomorrow, planned with ``medecin.traitant``.

Idempotent: a session whose patient already had an assisted act at its
place is skipped; the coming visit is made once while it is open.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext

from maillage.accounts.models import User
from maillage.acts import actions as acts
from maillage.acts.defaults import ensure_now
from maillage.acts.models import Convention, Orientation, Sector
from maillage.assisted import actions as assisted
from maillage.assisted.models import ActCode, Assistance
from maillage.demo import data
from maillage.demo import generate as gen
from maillage.demo.images import picture
from maillage.demo.pdf import ecg_pdf
from maillage.directory.models import EquipmentKind, Professional, Structure
from maillage.directory.terminology import GENERAL_PRACTICE
from maillage.files.storage import Upload
from maillage.measurements import actions as measurements
from maillage.measurements.codes import BLOOD_PRESSURE, HEART_RATE, SPO2
from maillage.measurements.models import Device, DeviceKind, Media, MediaKind, Method, Observation
from maillage.patients.models import Patient
from maillage.policy import teleconsult as room_policy
from maillage.policy.teleconsult import Visitor
from maillage.teleconsult.actions import CONSENT_WORDING, create_consultation
from maillage.teleconsult.models import (
    OPEN_STATUSES,
    Consent,
    Consultation,
    Modality,
    Participant,
    ParticipantRole,
    Status,
)

ProfessionalKey = tuple[str, str]
MMHG = "mm[Hg]"

# The equipment of the places, as the devices the readings name: (kind, manufacturer, model).
DEVICES: dict[str, tuple[str, str, str]] = {
    EquipmentKind.BP_MONITOR: (DeviceKind.BLOOD_PRESSURE, "Omron", "M7 Intelli IT"),
    EquipmentKind.OXIMETER: (DeviceKind.PULSE_OXIMETER, "Nonin", "3230 Bluetooth"),
    EquipmentKind.THERMOMETER: (DeviceKind.THERMOMETER, "A&D Medical", "UT-201BLE"),
    EquipmentKind.ECG: (DeviceKind.ECG, "Schiller", "Cardiovit AT-102 G2"),
    EquipmentKind.OTOSCOPE: (DeviceKind.OTOSCOPE, "Firefly", "DE551"),
    EquipmentKind.CAMERA: (DeviceKind.CAMERA, "Logitech", "Brio 4K"),
}


@dataclass(frozen=True)
class Reading:
    """One reading the assistant took, ``minute`` minutes into the act."""

    code: str
    minute: int
    device: str  # EquipmentKind of the place
    value: str = ""
    unit: str = ""
    # (LOINC, value) of a blood pressure, in mm[Hg].
    components: tuple[tuple[str, str], ...] = ()
    significant: bool = False


@dataclass(frozen=True)
class Capture:
    """A photo or an ECG tracing taken during the act."""

    kind: str  # MediaKind
    title: str
    minute: int
    device: str
    view: str = ""  # images.VIEWS for a photo
    lines: tuple[str, ...] = ()  # the ECG's header
    significant: bool = False


@dataclass(frozen=True)
class Session:
    key: str
    place: str  # StructureData key
    assistant: ProfessionalKey
    act_code: str
    doctor: ProfessionalKey
    # "demo" (the patient login) or a patient of this médecin traitant, first by public id.
    patient_of: ProfessionalKey | None
    days_ago: int
    start: dt.time
    asks: tuple[str, ...]
    readings: tuple[Reading, ...]
    captures: tuple[Capture, ...]
    report: acts.ReportContent
    minutes: int = 25
    patient_rank: int = 0


def _bp(
    systolic: str, diastolic: str, mean: str, minute: int, *, significant: bool = False
) -> Reading:
    return Reading(
        BLOOD_PRESSURE.loinc,
        minute,
        EquipmentKind.BP_MONITOR,
        components=(("8480-6", systolic), ("8462-4", diastolic), ("8478-0", mean)),
        significant=significant,
    )


def _spo2(value: str, minute: int) -> Reading:
    return Reading(SPO2.loinc, minute, EquipmentKind.OXIMETER, value, "%")


def _pulse(value: str, minute: int, device: str = EquipmentKind.OXIMETER) -> Reading:
    return Reading(HEART_RATE.loinc, minute, device, value, "/min")


_DUBREUIL = ("Claire", "Dubreuil")
_MAUGENDRE = ("Hélène", "Maugendre")
_FERRAND = ("Juliette", "Ferrand")

SESSIONS: tuple[Session, ...] = (
    Session(
        "aubois-berthon",
        "um-aubois",
        ("Thomas", "Girault"),
        ActCode.TLL,
        _DUBREUIL,
        None,
        days_ago=12,
        start=dt.time(9, 40),
        asks=("blood_pressure", "spo2", "ecg"),
        readings=(
            _bp("152", "88", "109", 4, significant=True),
            _pulse("76", 4, EquipmentKind.BP_MONITOR),
            _spo2("96", 7),
            _pulse("74", 7),
            _bp("146", "86", "106", 15),
        ),
        captures=(
            Capture(
                MediaKind.ECG,
                "ECG 12 dérivations au repos",
                10,
                EquipmentKind.ECG,
                lines=(
                    "ECG de repos - unité mobile du Val d'Aubois",
                    "25 mm/s, 10 mm/mV - DII",
                    "Rythme sinusal régulier, 74/min ; PR 160 ms, QRS fins ; pas de trouble "
                    "de la repolarisation.",
                ),
                significant=True,
            ),
        ),
        report=acts.ReportContent(
            reason="Contrôle de la tension après l'introduction du bisoprolol ; palpitations.",
            observations=(
                "Téléconsultation assistée par l'infirmier dans l'unité mobile. TA 152/88 puis "
                "146/86 au repos, pouls 74/min régulier, SpO2 96 %. ECG : rythme sinusal, pas "
                "de trouble de conduction ni de la repolarisation."
            ),
            conclusion="Hypertension artérielle insuffisamment contrôlée ; ECG normal.",
            prescriptions="Amlodipine 5 mg : 1 comprimé le soir, 3 mois.",
            follow_up="Automesure tensionnelle 3 jours avant la prochaine consultation.",
            orientation=Orientation.TREATING_DOCTOR,
        ),
    ),
    Session(
        "cabine-sancoins",
        "ph-sancoins-centre",
        ("Marc", "Delaunay"),
        ActCode.PHARMACIST,
        _DUBREUIL,
        _DUBREUIL,
        days_ago=5,
        start=dt.time(15, 20),
        asks=("blood_pressure", "spo2", "photo"),
        readings=(
            _bp("128", "79", "95", 3),
            _spo2("97", 5),
            _pulse("92", 5),
        ),
        captures=(
            Capture(
                MediaKind.PHOTO,
                "Otoscopie, oreille droite",
                8,
                EquipmentKind.OTOSCOPE,
                view="tympanum",
                significant=True,
            ),
        ),
        report=acts.ReportContent(
            reason="Otalgie droite depuis deux jours, fébricule.",
            observations=(
                "Téléconsultation assistée par le pharmacien dans la cabine de l'officine. "
                "TA 128/79, pouls 92/min, SpO2 97 %. Otoscopie : tympan droit congestif et bombé."
            ),
            conclusion="Otite moyenne aiguë droite.",
            prescriptions=(
                "Amoxicilline 1 g : 1 comprimé matin et soir, 5 jours.\n"
                "Paracétamol 1 g : jusqu'à 3 fois par jour si douleur."
            ),
            follow_up="Reconsulter si la fièvre persiste au-delà de 48 heures.",
            orientation=Orientation.NONE,
        ),
    ),
    Session(
        "perche",
        "um-perche",
        ("Anne-Laure", "Pinault"),
        ActCode.TLL,
        _MAUGENDRE,
        _MAUGENDRE,
        days_ago=3,
        start=dt.time(10, 30),
        asks=("blood_pressure", "spo2", "photo"),
        readings=(
            _bp("138", "84", "102", 3),
            _spo2("95", 6),
            _pulse("81", 6),
        ),
        captures=(
            Capture(
                MediaKind.PHOTO,
                "Plaie de la jambe gauche",
                12,
                EquipmentKind.CAMERA,
                view="skin",
                significant=True,
            ),
        ),
        report=acts.ReportContent(
            reason="Plaie de la jambe gauche qui ne cicatrise pas depuis trois semaines.",
            observations=(
                "Téléconsultation assistée par l'infirmière dans l'unité mobile du Perche. "
                "TA 138/84, pouls 81/min, SpO2 95 %. Ulcère de 2 cm, fond propre, pas de signe "
                "d'infection."
            ),
            conclusion="Ulcère veineux de jambe, sans signe de gravité.",
            prescriptions=(
                "Soins infirmiers : pansement hydrocolloïde tous les 3 jours, 3 semaines."
            ),
            follow_up="Photo de contrôle lors du prochain passage de l'unité mobile.",
            orientation=Orientation.TREATING_DOCTOR,
        ),
    ),
    Session(
        "sologne",
        "um-sologne",
        ("Kévin", "Bigot"),
        ActCode.TLL,
        _FERRAND,
        _FERRAND,
        days_ago=2,
        start=dt.time(14, 0),
        asks=("blood_pressure", "spo2", "ecg"),
        readings=(
            _bp("164", "96", "119", 2, significant=True),
            _pulse("58", 2, EquipmentKind.BP_MONITOR),
            _spo2("98", 5),
        ),
        captures=(
            Capture(
                MediaKind.ECG,
                "ECG 12 dérivations",
                9,
                EquipmentKind.ECG,
                lines=(
                    "ECG de repos - unité mobile de Sologne",
                    "25 mm/s, 10 mm/mV - DII",
                    "Bradycardie sinusale à 58/min ; PR 180 ms ; QRS fins.",
                ),
                significant=True,
            ),
        ),
        report=acts.ReportContent(
            reason="Vertiges en se levant depuis une semaine.",
            observations=(
                "Téléconsultation assistée par l'infirmier dans l'unité mobile de Sologne. "
                "TA 164/96, pouls 58/min, SpO2 98 %. ECG : bradycardie sinusale, pas de bloc."
            ),
            conclusion="Hypotension orthostatique peu probable ; HTA à confirmer, bradycardie.",
            prescriptions="Bilan sanguin : ionogramme, créatinine, TSH.",
            follow_up="Holter tensionnel ; avis cardiologique si la bradycardie se confirme.",
            orientation=Orientation.SPECIALIST,
        ),
    ),
)


@dataclass(frozen=True)
class ComingVisit:
    place: str
    assistant: ProfessionalKey
    act_code: str
    doctor: ProfessionalKey
    patient_of: ProfessionalKey
    patient_rank: int
    days_ahead: int
    start: dt.time
    reason: str


COMING = ComingVisit(
    "um-aubois",
    ("Thomas", "Girault"),
    ActCode.TLL,
    _DUBREUIL,
    _DUBREUIL,
    patient_rank=1,
    days_ahead=1,
    start=dt.time(10, 0),
    reason="Suivi de la tension et de la glycémie, à l'unité mobile.",
)


@dataclass
class _Cast:
    """The demo's professionals and places, found by their stable public ids."""

    professionals: dict[ProfessionalKey, Professional] = field(default_factory=dict)
    places: dict[str, Structure] = field(default_factory=dict)

    def professional(self, key: ProfessionalKey) -> Professional | None:
        return self.professionals.get(key)


def _cast() -> _Cast:
    planned: list[Session | ComingVisit] = [*SESSIONS, COMING]
    keys = {
        key for s in planned for key in (s.assistant, s.doctor, s.patient_of) if key is not None
    }
    by_uuid = {
        gen.stable_uuid("professional", f"{first} {last}"): (first, last) for first, last in keys
    }
    places = {s.place for s in planned}
    return _Cast(
        {
            by_uuid[p.uuid]: p
            for p in Professional.objects.filter(uuid__in=by_uuid).select_related("user")
        },
        {
            key: s
            for key in places
            for s in Structure.objects.filter(
                uuid=gen.stable_uuid("structure", key)
            ).select_related("commune")
        },
    )


def _patient(
    cast: _Cast,
    users: dict[str, User],
    of: ProfessionalKey | None,
    rank: int,
    place: Structure | None,
) -> Patient | None:
    """The demo patient, or the ``rank``-th adult patient (by public id) of a médecin traitant
    whose identity is qualified, not the demo patient, living in the place's département."""
    if of is None:
        return Patient.objects.filter(user=users.get("patient")).first()
    doctor = cast.professional(of)
    if doctor is None or place is None:
        return None
    rows = (
        Patient.objects.filter(
            treating_doctor=doctor,
            user__isnull=True,
            retrieved_from_insi=True,
            doubtful=False,
            birth_date__lt=dt.date(1970, 1, 1),
            commune__departement=place.commune.departement,
        )
        .select_related("treating_doctor")
        .order_by("uuid")
    )
    return rows[rank] if rows.count() > rank else None


def _at(days: int, when: dt.time) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=days)
    return dt.datetime.combine(day, when, tzinfo=timezone.get_default_timezone())


def _system_id(place: str, kind: str) -> str:
    """A stable EUI-64 for the place's device of this kind (16 hex digits)."""
    return hashlib.sha256(f"{data.SEED}:{place}:{kind}".encode()).hexdigest()[:16].upper()


def _device(assistant: User, place: str, kind: str) -> Device:
    device_kind, manufacturer, model = DEVICES[kind]
    device, _created = measurements.register_device(
        assistant,
        measurements.NewDevice(
            kind=device_kind,
            manufacturer=manufacturer,
            model_number=model,
            system_id=_system_id(place, kind),
        ),
    )
    return device


def _convention(doctor: Professional) -> None:
    """The demo's general practitioners are in sector 1 (TCG); the directory does not say it."""
    if doctor.specialty in GENERAL_PRACTICE:
        Convention.objects.get_or_create(professional=doctor, defaults={"sector": Sector.ONE})


def _new_act(
    patient: Patient,
    doctor: Professional,
    assistant: Professional,
    act_code: str,
    place: Structure,
    planned: dt.datetime,
    reason: str,
) -> Consultation:
    """The act, and its assistant added by its doctor (the room's own action and policy)."""
    assert doctor.user is not None
    consultation = create_consultation(
        patient,
        doctor,
        by=doctor.user,
        reason=reason,
        modality=Modality.VIDEO,
        planned_start=planned,
    )
    seat, change = room_policy.seat_for_change(
        Visitor(user=doctor.user), consultation.uuid, doctor_only=True, detail={"step": "assistant"}
    )
    assisted.add_assistant(seat, change, assistant, act_code, place)
    return consultation


def _readings(session: Session, act: Consultation, assistant: User, started: dt.datetime) -> None:
    doctor = act.doctor.user
    assert doctor is not None
    for kind in session.asks:
        seat, change = room_policy.seat_for_change(Visitor(user=doctor), act.uuid, doctor_only=True)
        request = assisted.ask(seat, change, kind)
        type(request).objects.filter(pk=request.pk).update(asked_at=started)
    for item in session.readings:
        taken = started + dt.timedelta(minutes=item.minute)
        reading = measurements.record_observation(
            assistant,
            act.patient,
            measurements.NewReading(
                code=item.code,
                effective_at=taken,
                method=Method.BLUETOOTH,
                value=Decimal(item.value) if item.value else None,
                unit=item.unit,
                components=tuple(
                    measurements.Quantity(Decimal(value), MMHG, loinc)
                    for loinc, value in item.components
                ),
                encounter=act.uuid,
                device=_device(assistant, session.place, item.device),
            ),
        )
        stamp = taken + dt.timedelta(seconds=20)
        Observation.objects.filter(pk=reading.pk).update(issued_at=stamp, updated_at=stamp)
        if item.significant:
            measurements.mark_significant(doctor, reading.uuid)
    for capture in session.captures:
        taken = started + dt.timedelta(minutes=capture.minute)
        if capture.kind == MediaKind.ECG:
            name, content = "ecg.pdf", ecg_pdf(list(capture.lines))
        else:
            name, content = picture(capture.view)
        medium = measurements.record_media(
            assistant,
            act.patient,
            measurements.NewMedia(
                kind=capture.kind,
                upload=Upload(name=name, data=content),
                taken_at=taken,
                title=capture.title,
                method=Method.IMPORT,
                encounter=act.uuid,
                device=_device(assistant, session.place, capture.device),
            ),
        )
        Media.objects.filter(pk=medium.pk).update(created_at=taken, updated_at=taken)
        if capture.significant:
            measurements.mark_media_significant(doctor, medium.uuid)


def _held(act: Consultation, started: dt.datetime, minutes: int) -> None:
    """The act as it went: everyone in at the start, the patient's consent through the
    assistant's seat, ended by the doctor."""
    ended = started + dt.timedelta(minutes=minutes)
    Consultation.objects.filter(pk=act.pk).update(
        status=Status.FINISHED, started_at=started, ended_at=ended, ended_by=act.doctor.user
    )
    Participant.objects.filter(consultation=act).update(
        joined_at=started - dt.timedelta(minutes=2),
        admitted_at=started,
        admitted_by=act.doctor.user,
        left_at=ended,
        quality="good",
    )
    assistant = Participant.objects.get(consultation=act, role=ParticipantRole.ASSISTANT)
    Consent.objects.create(
        consultation=act,
        given_by=assistant,
        given_at=started - dt.timedelta(minutes=1),
        wording=gettext(CONSENT_WORDING),
    )


def _already_held(patient: Patient, place: Structure) -> bool:
    return Assistance.objects.filter(
        place=place,
        participant__consultation__patient=patient,
        participant__consultation__started_at__isnull=False,
    ).exists()


def _session(cast: _Cast, users: dict[str, User], session: Session) -> bool:
    place = cast.places.get(session.place)
    patient = _patient(cast, users, session.patient_of, session.patient_rank, place)
    doctor = cast.professional(session.doctor)
    assistant = cast.professional(session.assistant)
    if patient is None or doctor is None or assistant is None or place is None:
        return False
    if doctor.user is None or assistant.user is None or _already_held(patient, place):
        return False
    started = _at(-session.days_ago, session.start)
    act = _new_act(
        patient, doctor, assistant, session.act_code, place, started, session.report.reason
    )
    _readings(session, act, assistant.user, started)
    _held(act, started, session.minutes)
    _convention(doctor)
    acts.close(doctor.user, act.uuid, session.report)
    return True


def _coming(cast: _Cast, users: dict[str, User]) -> bool:
    visit = COMING
    place = cast.places.get(visit.place)
    patient = _patient(cast, users, visit.patient_of, visit.patient_rank, place)
    doctor = cast.professional(visit.doctor)
    assistant = cast.professional(visit.assistant)
    if patient is None or doctor is None or assistant is None or place is None:
        return False
    if doctor.user is None or assistant.user is None:
        return False
    if Assistance.objects.filter(
        professional=assistant, participant__consultation__status__in=OPEN_STATUSES
    ).exists():
        return False
    _new_act(
        patient,
        doctor,
        assistant,
        visit.act_code,
        place,
        _at(visit.days_ahead, visit.start),
        visit.reason,
    )
    return True


def ensure_demo_assisted(users: dict[str, User]) -> int:
    """The past assisted sessions and the coming visit that are missing; how many were made."""
    ensure_now()
    cast = _cast()
    made = sum(_session(cast, users, session) for session in SESSIONS)
    return made + _coming(cast, users)
