"""Two demo conversations, so that the inbox of `medecin.traitant` shows what messaging is.

Sent through the messaging actions (the gates, the sealed file store, the
audit trail and the notices), as the professionals would: the nurse writes
about the demo patient with a PDF and the médecin traitant answers; the
pharmacist asks a question that names no patient. The doctor has not opened
the second one, so it shows as unread.
"""

from __future__ import annotations

from maillage.accounts.models import User
from maillage.demo.pdf import text_pdf
from maillage.messaging import actions
from maillage.messaging.models import Thread
from maillage.patients.models import Patient
from maillage.policy.messages import get_thread

NURSE_BODY = (
    "Bonjour Docteur,\n\n"
    "Passage ce matin chez Mme Berthon : tension à 15/9 assise, au-dessus de ses chiffres "
    "habituels. Pas de céphalée. Je vous joins la fiche de liaison de la tournée.\n\n"
    "Thomas Girault, IDE"
)
DOCTOR_REPLY = (
    "Merci. Je la vois en téléconsultation jeudi au point de Sancoins ; d'ici là, "
    "une mesure matin et soir, s'il vous plaît."
)
PHARMACIST_BODY = (
    "Bonjour,\n\nL'amlodipine 5 mg du laboratoire habituel est en rupture jusqu'à la fin du "
    "mois. Je propose le générique d'un autre laboratoire à vos patients ; dites-moi si vous "
    "préférez que je vous appelle au cas par cas.\n\nMarc Delaunay, pharmacien"
)


def ensure_demo_messages(users: dict[str, User]) -> int:
    """Send the demo conversations once; return how many messages were written."""
    doctor, nurse, pharmacist = (
        users["medecin.traitant"],
        users["infirmier"],
        users["pharmacien"],
    )
    patient = Patient.objects.filter(user=users["patient"]).first()
    if patient is None or Thread.objects.filter(participants__user=doctor).exists():
        return 0
    first = actions.send_message(
        nurse,
        actions.Draft(
            subject="Tension élevée de Mme Berthon",
            body=NURSE_BODY,
            professionals=[doctor.professional],
            patient_uuid=patient.uuid,
            uploads=[
                actions.Upload(
                    "fiche-de-liaison.pdf",
                    text_pdf(
                        [
                            "Fiche de liaison infirmiere",
                            "Patiente : Jacqueline Berthon",
                            "TA 15/9 assise, FC 78. Pas de cephalee.",
                        ]
                    ),
                )
            ],
        ),
    )
    thread = get_thread(doctor, first.thread.uuid)
    actions.mark_read(doctor, thread)
    actions.reply(doctor, thread, DOCTOR_REPLY)
    actions.send_message(
        pharmacist,
        actions.Draft(
            subject="Rupture d'amlodipine 5 mg",
            body=PHARMACIST_BODY,
            professionals=[doctor.professional],
        ),
    )
    return 3
