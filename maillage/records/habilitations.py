"""The default habilitation matrix: which role reads and writes which document type.

Loaded by migration into HabilitationRule rows, which an administrator can
change in the admin; the gate reads the rows, never this table. The defaults
follow the spirit of the DMP matrix: doctors everything; nurses the clinical
follow-up (with the opinions of the tele-expertises they may ask);
midwives their clinical record; physiotherapists, speech therapists and
orthoptists what their care acts on;
pharmacists prescriptions and biology (and the measures they take during an
assisted teleconsultation); the regulator what an emergency needs;
social workers, secretaries and analysts no clinical document. An
unclassified document (a LOINC type that names none of ours) is read and
written by doctors only: without knowing what it holds, the matrix cannot
say which other profession needs it, and an administrator can widen it.
"""

from __future__ import annotations

from maillage.records.models import DocumentType as T

R, W, RW = (True, False), (False, True), (True, True)

DEFAULT_MATRIX: dict[str, dict[str, tuple[bool, bool]]] = {
    "doctor": {t.value: RW for t in T},
    "nurse": {
        T.TELECONSULTATION_REPORT: R,
        # A nurse may ask a tele-expertise (STANDARDS.md): she reads its opinion.
        T.TELEEXPERTISE_OPINION: R,
        T.PRESCRIPTION: R,
        T.LAB_RESULTS: R,
        T.IMAGING_REPORT: R,
        T.LIAISON_LETTER: RW,
        T.EMERGENCY_LIAISON: RW,
        T.PHOTO: RW,
        T.ECG: RW,
        T.SOUND: RW,
        T.OTHER: RW,
    },
    # Midwives follow pregnancies and women's health, prescribe, and answer
    # tele-expertise: the clinical record but the unclassified type.
    "midwife": {t.value: RW for t in T if t != T.UNCLASSIFIED},
    # Physiotherapists, speech therapists, orthoptists: what their care needs
    # (prescriptions and imaging they act on, the opinions they asked for).
    "rehabilitation": {
        T.TELECONSULTATION_REPORT: R,
        T.TELEEXPERTISE_OPINION: R,
        T.PRESCRIPTION: R,
        T.IMAGING_REPORT: R,
        T.LIAISON_LETTER: RW,
        T.PHOTO: RW,
        T.SOUND: RW,
        T.OTHER: RW,
    },
    "pharmacist": {
        T.PRESCRIPTION: R,
        T.LAB_RESULTS: R,
        T.PHOTO: W,
        T.ECG: W,
        T.SOUND: W,
    },
    "regulator": {
        T.TELECONSULTATION_REPORT: R,
        T.PRESCRIPTION: R,
        T.LAB_RESULTS: R,
        T.LIAISON_LETTER: R,
        T.EMERGENCY_LIAISON: R,
        T.ECG: R,
    },
}


def default_rows() -> list[tuple[str, str, bool, bool]]:
    """(role, type, read, write) for every role and type named above."""
    return [
        (role, str(doc_type), read, write)
        for role, types in DEFAULT_MATRIX.items()
        for doc_type, (read, write) in types.items()
    ]
