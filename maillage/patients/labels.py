"""French words for the FHIR codes a received identity carries (shown on its pages).

Kept as sent in the tables; these are only how a page names them. A code
outside these small value sets is shown as sent.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# FHIR ContactPoint.system and ContactPoint.use (R4, required bindings).
TELECOM_SYSTEMS: dict[str, Promise] = {
    "phone": _("phone"),
    "fax": _("fax"),
    "email": _("email"),
    "pager": _("pager"),
    "url": _("web address"),
    "sms": _("SMS"),
    "other": _("other"),
}
TELECOM_USES: dict[str, Promise] = {
    "home": _("home"),
    "work": _("work"),
    "temp": _("temporary"),
    "old": _("no longer in use"),
    "mobile": _("mobile"),
}
# HL7 v2 table 0131, the relationship codes of Patient.contact.
CONTACT_ROLES: dict[str, Promise] = {
    "C": _("emergency contact"),
    "E": _("employer"),
    "F": _("federal agency"),
    "I": _("insurance company"),
    "N": _("next of kin"),
    "S": _("state agency"),
    "U": _("unknown"),
}
# HL7 v2 table 0203, the identifier types a record is likely to receive.
IDENTIFIER_TYPES: dict[str, Promise] = {
    "MR": _("medical record number"),
    "SS": _("social security number"),
    "DL": _("driver's license number"),
    "PPN": _("passport number"),
    "PI": _("patient internal identifier"),
    "PT": _("patient external identifier"),
    "TAX": _("tax identification number"),
}


def named(labels: dict[str, Promise], code: str) -> str:
    """The French word for ``code``, or the code as sent."""
    label = labels.get(code)
    return str(label) if label is not None else code
