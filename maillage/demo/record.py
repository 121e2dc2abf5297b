"""The demo patient's shared record: a few documents and a care team.

Filed through the record's own actions (the gate, the sealed file store and
the audit trail), as the médecin traitant would, so that the demo shows what
a real record looks like, including its access log.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from maillage.accounts.models import User
from maillage.demo.pdf import text_pdf
from maillage.patients.models import Patient
from maillage.records import actions
from maillage.records.models import CareTeamMember, CareTeamReason, Document, DocumentType

DOCUMENTS = [
    (
        DocumentType.TELECONSULTATION_REPORT,
        "Téléconsultation de suivi — hypertension",
        30,
        [
            "Compte rendu de teleconsultation",
            "Motif : suivi de l'hypertension arterielle.",
            "TA 14/8 au tensiometre du point de teleconsultation.",
            "Traitement poursuivi.",
        ],
    ),
    (
        DocumentType.LAB_RESULTS,
        "Bilan biologique annuel",
        45,
        [
            "Resultats de biologie",
            "Creatinine 78 umol/L, DFG 71 mL/min.",
            "HbA1c 5,9 %. Bilan lipidique dans les objectifs.",
        ],
    ),
    (
        DocumentType.PRESCRIPTION,
        "Ordonnance — renouvellement du traitement",
        30,
        ["Ordonnance", "Amlodipine 5 mg : 1 comprimé le matin, 3 mois."],
    ),
]


def ensure_demo_record(users: dict[str, User]) -> int:
    """File the demo documents once; return how many were filed."""
    patient = Patient.objects.filter(user=users["patient"]).first()
    doctor = users["medecin.traitant"]
    if patient is None or Document.objects.filter(patient=patient).exists():
        return 0
    nurse = users["infirmier"]
    if (
        hasattr(nurse, "professional")
        and not CareTeamMember.objects.filter(
            patient=patient, professional=nurse.professional
        ).exists()
    ):
        CareTeamMember.objects.create(
            patient=patient,
            professional=nurse.professional,
            reason=CareTeamReason.NAMED_BY_PATIENT,
            added_by=users["patient"],
        )
    today = timezone.localdate()
    for doc_type, title, days_ago, lines in DOCUMENTS:
        actions.file_document(
            doctor,
            patient,
            actions.NewDocument(doc_type, title, today - dt.timedelta(days=days_ago)),
            uploads=[actions.Upload(f"{doc_type}.pdf", text_pdf(lines))],
        )
    return len(DOCUMENTS)
