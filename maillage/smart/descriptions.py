"""What each scope allows, in words shown on the consent page (French through gettext)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from django.utils.translation import gettext as _

from maillage.smart import scopes as s

# The scopes the server announces (smart-configuration); any well-formed
# scope of the grammar is understood, these are the usual ones.
SUPPORTED = (
    s.OPENID,
    s.FHIR_USER,
    s.OFFLINE,
    s.ONLINE,
    s.LAUNCH_PATIENT,
    "patient/*.rs",
    "patient/*.read",
    "patient/Patient.rs",
    "patient/DocumentReference.rs",
    "user/*.rs",
    "user/*.cruds",
    "user/*.read",
    "user/*.write",
    "system/*.rs",
    "system/*.read",
)


def _what(resource_type: str) -> str:
    names = {
        "*": _("all the data"),
        "Patient": _("identities (Patient)"),
        "DocumentReference": _("documents of the shared record (DocumentReference)"),
        "Binary": _("files of the documents (Binary)"),
        "Consent": _("consents (Consent)"),
        "Communication": _("messages (Communication)"),
        "AuditEvent": _("the access log (AuditEvent)"),
        "Practitioner": _("the directory of professionals (Practitioner)"),
        "PractitionerRole": _("professionals' practices (PractitionerRole)"),
        "Organization": _("structures (Organization)"),
        "Location": _("places of care (Location)"),
    }
    return names.get(resource_type, resource_type)


def _verbs(permissions: frozenset[s.Access]) -> str:
    words = {
        s.Access.CREATE: _("create"),
        s.Access.READ: _("read"),
        s.Access.UPDATE: _("update"),
        s.Access.DELETE: _("delete"),
        s.Access.SEARCH: _("search"),
    }
    return ", ".join(str(words[a]) for a in s.Access if a in permissions)


def describe(scope: str) -> str:
    """One line per scope; KeyError for a scope we do not understand."""
    fixed = {
        s.OPENID: _("Know who you are (your Maillage account)."),
        s.FHIR_USER: _("Know your FHIR identity (Patient or Practitioner)."),
        "profile": _("Know your name."),
        s.OFFLINE: _("Keep access when you are not using the app, until you revoke it."),
        s.ONLINE: _("Keep access while you are using the app."),
        s.LAUNCH_PATIENT: _("Know which patient file is open (your own, for a patient)."),
    }
    if scope in fixed:
        return str(fixed[scope])
    parsed = s.parse_clinical(scope)
    if parsed is None:
        raise KeyError(scope)
    values = {"verbs": _verbs(parsed.permissions), "what": _what(parsed.resource_type)}
    if parsed.context is s.Context.PATIENT:
        line = _("%(verbs)s: %(what)s of your own record only.") % values
    elif parsed.context is s.Context.USER:
        line = _("%(verbs)s: %(what)s that your account may reach, never more.") % values
    else:
        line = _("%(verbs)s: %(what)s that this system client may reach.") % values
    return line[:1].upper() + line[1:]


class ScopeDescriptions(Mapping[str, str]):
    """The toolkit's view of "all scopes": every scope of the grammar, described."""

    def __getitem__(self, scope: str) -> str:
        return describe(scope)

    def __iter__(self) -> Iterator[str]:
        return iter(SUPPORTED)

    def __len__(self) -> int:
        return len(SUPPORTED)


class SmartScopes:
    """django-oauth-toolkit's scopes backend (SCOPES_BACKEND_CLASS)."""

    def get_all_scopes(self) -> Mapping[str, str]:
        return ScopeDescriptions()

    def get_available_scopes(
        self, application: object = None, request: object = None, *args: object, **kwargs: object
    ) -> list[str]:
        return list(SUPPORTED)

    def get_default_scopes(
        self, application: object = None, request: object = None, *args: object, **kwargs: object
    ) -> list[str]:
        return []
