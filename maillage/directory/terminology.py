"""French health terminologies used by the directory, kept as data.

Codes and displays from the ANS Nomenclatures des Objets de Santé (NOS):
TRE_G15 ProfessionSante and TRE_R38 SpecialiteOrdinale (medical specialties,
"SM" codes, as published in the JDV_J107 value set of July 2026). The display
is the official one; the screen label is its French translation of our msgid.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

PROFESSION_SYSTEM = (
    "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
)
SPECIALTY_SYSTEM = (
    "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"
)
RPPS_SYSTEM = "https://rpps.esante.gouv.fr"
IDNPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
FINESS_SYSTEM = "https://finess.esante.gouv.fr"
IDNST_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2"
SIRET_SYSTEM = "https://sirene.fr"


class Profession(models.TextChoices):
    """TRE_G15 codes of the professions Maillage deals with."""

    DOCTOR = "10", _("Doctor")
    PHARMACIST = "21", _("Pharmacist")
    DENTIST = "40", _("Dental surgeon")
    MIDWIFE = "50", _("Midwife")
    NURSE = "60", _("Nurse")
    PHYSIOTHERAPIST = "70", _("Physiotherapist")
    PODIATRIST = "80", _("Podiatrist")
    SPEECH_THERAPIST = "91", _("Speech therapist")
    ORTHOPTIST = "92", _("Orthoptist")
    OCCUPATIONAL_THERAPIST = "94", _("Occupational therapist")
    DIETITIAN = "95", _("Dietitian")


PROFESSION_DISPLAY = {
    "10": "Médecin",
    "21": "Pharmacien",
    "40": "Chirurgien-Dentiste",
    "50": "Sage-Femme",
    "60": "Infirmier",
    "70": "Masseur-Kinésithérapeute",
    "80": "Pédicure-Podologue",
    "91": "Orthophoniste",
    "92": "Orthoptiste",
    "94": "Ergothérapeute",
    "95": "Diététicien",
}

# Only doctors and midwives answer tele-expertise (avenant 9, 2022).
TELEEXPERTISE_RESPONDERS = frozenset({Profession.DOCTOR, Profession.MIDWIFE})


class Specialty(models.TextChoices):
    """TRE_R38 ordinal specialties (medical, "SM") offered in the directory."""

    ALLERGOLOGY = "SM57", _("Allergology")
    CARDIOLOGY = "SM04", _("Cardiology and vascular diseases")
    CARDIOVASCULAR = "SM73", _("Cardiovascular medicine")
    DERMATOLOGY = "SM15", _("Dermatology and venereology")
    ENDOCRINOLOGY = "SM16", _("Endocrinology and metabolism")
    ENDOCRINOLOGY_DIABETES = "SM62", _("Endocrinology, diabetology, nutrition")
    GASTROENTEROLOGY = "SM24", _("Gastroenterology and hepatology")
    GERIATRICS = "SM18", _("Geriatrics")
    GYNAECOLOGY = "SM19", _("Medical gynaecology")
    OBSTETRICS = "SM20", _("Gynaecology and obstetrics")
    GENERAL_PRACTICE_QUALIFIED = "SM26", _("General practice (qualified)")
    GENERAL_PRACTICE_SPECIALIST = "SM53", _("General practice (specialist)")
    GENERAL_PRACTICE = "SM54", _("General practice")
    INTERNAL_MEDICINE = "SM27", _("Internal medicine")
    INFECTIOUS_DISEASES = "SM58", _("Infectious and tropical diseases")
    EMERGENCY = "SM59", _("Emergency medicine")
    NEPHROLOGY = "SM30", _("Nephrology")
    NEUROLOGY = "SM32", _("Neurology")
    OPHTHALMOLOGY = "SM38", _("Ophthalmology")
    ENT = "SM39", _("Otorhinolaryngology")
    PAEDIATRICS = "SM40", _("Paediatrics")
    PNEUMOLOGY = "SM41", _("Pneumology")
    PSYCHIATRY = "SM42", _("Psychiatry")
    RADIOLOGY = "SM44", _("Diagnostic radiology")
    RHEUMATOLOGY = "SM48", _("Rheumatology")
    VASCULAR = "SM61", _("Vascular medicine")


SPECIALTY_DISPLAY = {
    "SM57": "Allergologie (SM)",
    "SM04": "Cardiologie et Maladies vasculaires (SM)",
    "SM73": "Médecine cardiovasculaire (SM)",
    "SM15": "Dermatologie et Vénéréologie (SM)",
    "SM16": "Endocrinologie et Métabolisme (SM)",
    "SM62": "Endocrinologie, diabétologie, nutrition (SM)",
    "SM24": "Gastro-entérologie et Hépatologie (SM)",
    "SM18": "Gériatrie (SM)",
    "SM19": "Gynécologie médicale (SM)",
    "SM20": "Gynécologie-obstétrique (SM)",
    "SM26": "Qualifié en Médecine générale (SM)",
    "SM53": "Spécialiste en Médecine générale (SM)",
    "SM54": "Médecine générale (SM)",
    "SM27": "Médecine interne (SM)",
    "SM58": "Maladies infectieuses et tropicales (SM)",
    "SM59": "Médecine d'urgence (SM)",
    "SM30": "Néphrologie (SM)",
    "SM32": "Neurologie (SM)",
    "SM38": "Ophtalmologie (SM)",
    "SM39": "Oto-rhino-laryngologie (SM)",
    "SM40": "Pédiatrie (SM)",
    "SM41": "Pneumologie (SM)",
    "SM42": "Psychiatrie (SM)",
    "SM44": "Radio-diagnostic (SM)",
    "SM48": "Rhumatologie (SM)",
    "SM61": "Médecine vasculaire (SM)",
}

GENERAL_PRACTICE = frozenset(
    {
        Specialty.GENERAL_PRACTICE_QUALIFIED,
        Specialty.GENERAL_PRACTICE_SPECIALIST,
        Specialty.GENERAL_PRACTICE,
    }
)

# A search for one specialty also finds its renamed or reformed variants.
SPECIALTY_FAMILIES: dict[str, frozenset[str]] = {
    Specialty.CARDIOLOGY: frozenset({Specialty.CARDIOLOGY, Specialty.CARDIOVASCULAR}),
    Specialty.CARDIOVASCULAR: frozenset({Specialty.CARDIOLOGY, Specialty.CARDIOVASCULAR}),
    Specialty.ENDOCRINOLOGY: frozenset({Specialty.ENDOCRINOLOGY, Specialty.ENDOCRINOLOGY_DIABETES}),
    Specialty.ENDOCRINOLOGY_DIABETES: frozenset(
        {Specialty.ENDOCRINOLOGY, Specialty.ENDOCRINOLOGY_DIABETES}
    ),
    **{code: GENERAL_PRACTICE for code in GENERAL_PRACTICE},
}


def specialty_family(code: str) -> frozenset[str]:
    return SPECIALTY_FAMILIES.get(code, frozenset({code}))
