"""The opinion, written once: a PDF of the act, filed in the record and sent by secure messaging.

The PDF (WeasyPrint, from ``expertise/opinion.html``) holds the question,
the exchanges, the conclusion, the participants, the dates and times and
the structured data (priority, specialty, recommendation, acts). The
specialist files it as a "tele-expertise opinion" (``records.actions``:
the record's gate, the habilitation matrix), then sends it to the requester
and to the médecin traitant, each send decided by the policy for its
receiver (``messaging.actions``; an outside address goes through the
gateway). It runs in the conclusion's transaction: a conclusion is never
saved without its opinion. A refusal (the patient opposed her médecin
traitant) leaves the conclusion and the other sends, and is said on the
request (``opinion_problem``), never silently dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.timezone import localdate
from django.utils.translation import gettext as _

from maillage.expertise import billing
from maillage.expertise.models import Request
from maillage.files.storage import Upload
from maillage.measurements.display import rows as reading_rows
from maillage.messaging import actions as messaging
from maillage.policy.gate import PatientNotFound
from maillage.records import actions as records
from maillage.records.models import DocumentType

if TYPE_CHECKING:
    from maillage.accounts.models import User
    from maillage.directory.models import Professional
    from maillage.measurements.models import Observation

logger = logging.getLogger(__name__)


def render_pdf(request: Request, readings: Sequence[Observation] = ()) -> bytes:
    """The opinion; ``readings`` are the shared ones its author saw (``RequestAccess.readings``)."""
    import weasyprint  # type: ignore[import-untyped]

    html = render_to_string(
        "expertise/opinion.html",
        {
            "request": request,
            "messages": request.messages.select_related("author").prefetch_related(
                "attachments__file"
            ),
            "documents": request.documents.all(),
            "readings": reading_rows(readings),
            "acts": billing.acts_of(request),
            "printed_at": timezone.now(),
        },
    )
    return bytes(weasyprint.HTML(string=html).write_pdf())


def title_of(request: Request) -> str:
    specialty = request.get_specialty_display() if request.specialty else ""
    return (_("Tele-expertise opinion — %(specialty)s") % {"specialty": specialty}).rstrip(" —")


def file_and_send(specialist: User, request: Request, readings: Sequence[Observation] = ()) -> None:
    """File the opinion under the specialist's name, then send it to each receiver."""
    with translation.override("fr"):
        pdf = render_pdf(request, readings)
        title = title_of(request)
    problems: list[str] = []
    try:
        document = records.file_document(
            specialist,
            request.patient,
            records.NewDocument(
                type=DocumentType.TELEEXPERTISE_OPINION,
                title=title,
                date=localdate(request.concluded_at),
            ),
            uploads=[Upload(f"avis-teleexpertise-{str(request.uuid)[:8]}.pdf", pdf)],
        )
    except (records.RecordRuleBroken, PatientNotFound) as refused:
        message = getattr(refused, "message", "") or _("the record refused it")
        Request.objects.filter(pk=request.pk).update(
            opinion_problem=(_("The opinion could not be filed: %(why)s") % {"why": message})[:300]
        )
        return
    Request.objects.filter(pk=request.pk).update(opinion=document)
    for professional, address in receivers_of(request):
        try:
            messaging.send_message(
                specialist,
                messaging.Draft(
                    subject=title,
                    body=_(
                        "The opinion of the tele-expertise you asked for, or that concerns "
                        "your patient, is attached. It is also filed in the shared record."
                    ),
                    professionals=[professional] if professional is not None else [],
                    addresses=[address] if address else [],
                    patient_uuid=request.patient.uuid,
                    documents=[document.uuid],
                ),
            )
        except (messaging.MessagingRuleBroken, PatientNotFound) as refused:
            name = professional.display_name if professional is not None else address
            problems.append(name)
            logger.info("opinion of %s not sent to a receiver: %s", request.uuid, refused)
    if problems:
        Request.objects.filter(pk=request.pk).update(
            opinion_problem=(
                _("The opinion could not be sent to: %(who)s.") % {"who": ", ".join(problems)}
            )[:300]
        )


def receivers_of(request: Request) -> list[tuple[Professional | None, str]]:
    """The requester and the médecin traitant (once each): an account, else an MSSanté address."""
    out: list[tuple[Professional | None, str]] = [(request.requester_professional, "")]
    treating = request.patient.treating_doctor
    if treating is not None and treating.pk not in {
        request.requester_professional_id,
        request.assignee_id,
    }:
        if treating.user_id is not None:
            out.append((treating, ""))
        elif treating.secure_messaging_address:
            out.append((None, treating.secure_messaging_address))
    return out
