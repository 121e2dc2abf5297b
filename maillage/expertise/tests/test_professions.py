"""The professions that ask (STANDARDS.md): a midwife and a physiotherapist of the patient's MSP
ask; a midwife of a pool answers and files the opinion; a physiotherapist never answers."""

from __future__ import annotations

from typing import Any

import pytest

from maillage.accounts.models import Role
from maillage.directory.terminology import Profession, Specialty
from maillage.expertise import actions
from maillage.expertise.models import Recommendation, Status
from maillage.policy.expertise import RequestNotFound
from maillage.policy.gate import PatientNotFound
from maillage.records.models import DocumentType
from maillage.testing import factories as f


def _ask(user: Any, personas: Any, pool: Any) -> Any:
    draft = actions.save_draft(
        user,
        personas.patient.uuid,
        actions.Ask(
            question="Douleur pelvienne à 30 SA, avis ?",
            priority="soon",
            pool_uuid=pool.uuid,
            consent=True,
        ),
    )
    return actions.submit(user, draft.uuid)


@pytest.fixture
def perinatal(personas: Any) -> Any:
    """A gynaecology pool with a midwife who answers, as a GHT's perinatal network does."""
    midwife = f.professional(
        "sage.femme.pole",
        last_name="Roux",
        first_name="Claire",
        profession=Profession.MIDWIFE,
        accepts_teleexpertise=True,
        teleexpertise_response_hours=24,
    )
    physio = f.professional(
        "kine.pole",
        last_name="Marchand",
        first_name="Hugo",
        profession=Profession.PHYSIOTHERAPIST,
        # Set by hand in the directory: still never one who answers.
        accepts_teleexpertise=True,
        teleexpertise_response_hours=24,
    )
    return f.pool("Périnatalité — Cher", Specialty.OBSTETRICS, (midwife, physio))


@pytest.mark.django_db
def test_a_midwife_of_the_msp_asks_and_a_midwife_of_the_pool_answers_and_files(
    personas: Any, perinatal: Any
) -> None:
    asking = f.professional(
        "sage.femme.msp",
        last_name="Lemoine",
        profession=Profession.MIDWIFE,
        structures=(personas.msp,),
    )
    assert asking.user is not None and asking.user.role == Role.MIDWIFE
    request = _ask(asking.user, personas, perinatal)
    assert request.status == Status.WAITING
    answering = perinatal.members.get(professional__profession=Profession.MIDWIFE).professional
    physio = perinatal.members.get(professional__profession=Profession.PHYSIOTHERAPIST)
    with pytest.raises(RequestNotFound):
        actions.claim(physio.professional.user, request.uuid)
    actions.claim(answering.user, request.uuid)
    actions.conclude(
        answering.user,
        request.uuid,
        actions.Conclusion("Échographie de contrôle, pas d'urgence.", Recommendation.NONE),
    )
    request.refresh_from_db()
    assert request.status == Status.CONCLUDED and request.opinion_problem == ""
    assert request.opinion is not None
    assert request.opinion.type == DocumentType.TELEEXPERTISE_OPINION


@pytest.mark.django_db
def test_a_physiotherapist_of_the_msp_asks_and_one_elsewhere_may_not(
    personas: Any, perinatal: Any
) -> None:
    physio = f.professional(
        "kine.msp",
        last_name="Fontaine",
        profession=Profession.PHYSIOTHERAPIST,
        structures=(personas.msp,),
    )
    assert physio.user is not None and physio.user.role == Role.REHABILITATION
    assert _ask(physio.user, personas, perinatal).status == Status.WAITING
    elsewhere = f.professional(
        "orthoptiste.ailleurs",
        last_name="Blanc",
        profession=Profession.ORTHOPTIST,
    )
    assert elsewhere.user is not None and elsewhere.user.role == Role.REHABILITATION
    # Neither in the structure that follows her nor in her care team: no patient to ask about.
    with pytest.raises(PatientNotFound):
        _ask(elsewhere.user, personas, perinatal)
