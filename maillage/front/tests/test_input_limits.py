"""Linear-time input, tried as an attacker: long fields, crafted communes, huge page numbers.

Findings 9 and 10 of issue 7: "a" + 40 000 spaces + "a" froze the process
for 5 s in the commune parser (a backtracking regex), and long values or huge
page numbers ended in 500s. The tests below assert on the algorithm (every
regular expression our code applies while serving the attack is recorded and
must have no backtracking shape), on the status, on the French message and
on what the database holds, never on a time.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from django import forms
from django.test import Client

from maillage.audit.models import Action, AuditEntry
from maillage.front.input_limits import MAX_FIELD_CHARS, MAX_PARAMETER_CHARS
from maillage.front.tests.regex_shape import backtracking_risks
from maillage.front.tests.test_home import signed_in
from maillage.patients.models import MAX_ADDRESS_PART, Patient
from maillage.territory.queries import MAX_TYPED_CHARS, find_communes, parse_typed_commune
from maillage.testing.factories import page_text

PACKAGE = Path(__file__).resolve().parents[2]
CRAFTED = "a" + " " * 40_000 + "a"
# The same trap at the longest a query parameter may be.
CRAFTED_PARAMETER = "a" + " " * (MAX_PARAMETER_CHARS - 2) + "a"
# ... and at the longest a commune field takes, so that it reaches the parser.
CRAFTED_NAME = "a" + " " * (MAX_TYPED_CHARS - 2) + "a"
# ... and at the longest a city of a FHIR address takes.
CRAFTED_CITY = "a" + " " * (MAX_ADDRESS_PART - 2) + "a"
FRENCH_TOO_LONG = "La requête contient une valeur de plus de"

pytestmark = pytest.mark.django_db


# --- What regular expressions our code applies --------------------------------


def _ours(frame: FrameType | None, *, with_tests: bool) -> bool:
    filename = frame.f_code.co_filename if frame else ""
    return filename.startswith(str(PACKAGE)) and (with_tests or "/tests/" not in filename)


@contextmanager
def regexes_applied(*, with_tests: bool = False) -> Iterator[list[re.Pattern[str]]]:
    """Every compiled pattern whose method our code calls, directly or through re.*().

    A profile hook sees each call into C: a method of a ``re.Pattern`` is a
    regex applied, whoever compiled it.
    """
    seen: list[re.Pattern[str]] = []
    re_module = str(Path(re.__file__).parent)

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        if event != "c_call" or not isinstance(getattr(arg, "__self__", None), re.Pattern):
            return
        caller = frame.f_back if frame.f_code.co_filename.startswith(re_module) else frame
        if _ours(caller, with_tests=with_tests):
            seen.append(arg.__self__)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield seen
    finally:
        sys.setprofile(previous)


def assert_linear(patterns: list[re.Pattern[str]]) -> None:
    risky = {p.pattern: backtracking_risks(p.pattern, p.flags) for p in patterns}
    assert {k: v for k, v in risky.items() if v} == {}


def test_the_recorder_and_the_shape_check_catch_the_old_commune_parser() -> None:
    """The tools of these tests can fail: the regex of finding 9 is caught by both."""
    old = re.compile(r"^(?P<name>.+?)\s*\((?P<dep>\w{2,3})\)\s*$")
    with regexes_applied(with_tests=True) as seen:
        old.match("Sancoins (18)")
        re.fullmatch(r"\d[\dAB]\d{3}", "18242")
    assert [p.pattern for p in seen] == [old.pattern, r"\d[\dAB]\d{3}"]
    assert backtracking_risks(old.pattern) == [
        "two unbounded repeats over the same characters in a row"
    ]
    for nested in (r"(a+)+$", r"(\d+)*x", r"(?:\s*,)*", r"\w+\s?\w+"):
        assert backtracking_risks(nested), nested
    for safe in (r"[;\n]+", r"(?<!\d)(\d{11})(?!\d)", r"^\s*\d{3}\s?\d{3}\s*$", r"\d[\dAB]\d{3}"):
        assert backtracking_risks(safe) == [], safe


def _literal_patterns() -> Iterator[tuple[str, int, str]]:
    """(pattern, line, file) of every literal regex in the package, tests and migrations aside."""
    calls = {"compile", "match", "fullmatch", "search", "sub", "subn", "split", "findall"}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            is_re = (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "re"
                and name in calls
            )
            arguments = list(node.args[:1]) if is_re else []
            if name in {"RegexValidator", "RegexField"}:
                arguments += [k.value for k in node.keywords if k.arg == "regex"]
            for argument in arguments:
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    yield argument.value, node.lineno, str(path.relative_to(PACKAGE))


def test_no_regex_of_the_package_can_backtrack_on_what_users_type() -> None:
    found = list(_literal_patterns())
    # The audit sees the regexes it must see (ours, in identity, messaging, FHIR...).
    assert len(found) >= 10
    risky = [(where, line, p) for p, line, where in found if backtracking_risks(p)]
    assert risky == []


def test_the_commune_parser_uses_no_regex_at_all_on_the_crafted_input() -> None:
    with regexes_applied() as seen:
        parsed = parse_typed_commune(CRAFTED)
        parsed_with_departement = parse_typed_commune("Sancoins" + " " * 40_000 + "(18)")
        nothing = list(find_communes(CRAFTED))
    assert seen == []
    assert parsed.name == CRAFTED and parsed.departement == ""
    assert (parsed_with_departement.name, parsed_with_departement.departement) == (
        "Sancoins",
        "18",
    )
    assert nothing == []


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Sancoins", ("", "Sancoins", "")),
        ("  Sancoins (18) ", ("", "Sancoins", "18")),
        ("Saint-Amand-Montrond(18)", ("", "Saint-Amand-Montrond", "18")),
        ("18242", ("18242", "", "")),
        ("2a004", ("2A004", "", "")),
        ("(18)", ("", "(18)", "")),
        ("Sancoins (1 8)", ("", "Sancoins (1 8)", "")),
        ("Sancoins (1834)", ("", "Sancoins (1834)", "")),
    ],
)
def test_it_reads_what_people_type_as_before(typed: str, expected: tuple[str, str, str]) -> None:
    parsed = parse_typed_commune(typed)
    assert (parsed.insee_code, parsed.name, parsed.departement) == expected


# --- Finding 9 through each door ---------------------------------------------


def test_the_crafted_commune_through_the_directory_search(personas) -> None:
    client = signed_in(personas.cardiologist.user)

    response = client.get("/annuaire/", {"commune": CRAFTED})
    assert response.status_code == 400
    assert FRENCH_TOO_LONG in page_text(response)

    with regexes_applied() as seen:
        response = client.get("/annuaire/", {"commune": CRAFTED_PARAMETER})
        parsed = client.get("/annuaire/", {"commune": CRAFTED_NAME})
    assert response.status_code == 200
    assert f"Un nom de commune compte au plus {MAX_TYPED_CHARS} caractères." in page_text(response)
    # The longest name the field takes goes through the parser: no regex shape to fear.
    assert parsed.status_code == 200
    assert "Aucune commune du Centre-Val de Loire ne s'appelle" in page_text(parsed)
    assert_linear(seen)


def _new_patient(**changes: str) -> dict[str, str]:
    data = {
        "birth_name": "PETIT",
        "first_birth_given_name": "Anaïs",
        "birth_given_names": "Anaïs",
        "sex": "F",
        "birth_date": "1990-03-04",
        "birthplace_code": "18033",
        "commune": "Sancoins",
    }
    data.update(changes)
    return data


def test_the_crafted_commune_through_the_new_patient_form(personas) -> None:
    client = signed_in(personas.treating_doctor.user)
    before = Patient.objects.count()

    response = client.post("/patients/nouveau/", _new_patient(commune=CRAFTED))
    assert response.status_code == 400
    assert FRENCH_TOO_LONG in page_text(response)

    crafted_field = "a" + " " * (MAX_FIELD_CHARS - 2) + "a"
    with regexes_applied() as seen:
        response = client.post("/patients/nouveau/", _new_patient(commune=crafted_field))
        parsed = client.post("/patients/nouveau/", _new_patient(commune=CRAFTED_NAME))
    assert parsed.status_code == 400
    assert "Aucune commune du Centre-Val de Loire ne s'appelle" in page_text(parsed)
    assert response.status_code == 400
    assert f"Un nom de commune compte au plus {MAX_TYPED_CHARS} caractères." in page_text(response)
    assert_linear(seen)
    assert Patient.objects.count() == before
    assert not AuditEntry.objects.filter(action=Action.PATIENT_CREATE).exists()


def test_the_crafted_city_through_fhir_patient_create(personas) -> None:
    from maillage.fhir.tests.conftest import Api, fhir_json
    from maillage.fhir.tests.test_patient_create import _body

    api = Api(Client())
    body = _body(address=[{"use": "home", "line": ["3 rue des Tilleuls"], "city": CRAFTED}])
    doctor = personas.treating_doctor
    api.token(doctor)

    with regexes_applied() as seen:
        response = api.post("Patient", body, doctor)

    assert_linear(seen)
    # Longer than any city: refused in French, naming where, and nothing created.
    assert response.status_code == 400
    (issue,) = fhir_json(response)["issue"]
    assert issue["expression"] == ["Patient.address[0].city"]
    assert "trop long" in issue["diagnostics"]
    assert not Patient.objects.filter(birth_name=body["name"][0]["family"].upper()).exists()

    # The same trap at the longest a city may be still reaches the commune
    # search, in linear time, and an address we cannot place is kept as sent.
    body = _body(address=[{"use": "home", "line": ["3 rue des Tilleuls"], "city": CRAFTED_CITY}])
    with regexes_applied() as seen:
        response = api.post("Patient", body, doctor)

    assert_linear(seen)
    assert response.status_code == 201
    patient = Patient.objects.get(uuid=fhir_json(response)["id"])
    assert patient.commune is None
    assert patient.address_line == "3 rue des Tilleuls"
    (address,) = fhir_json(response)["address"]
    assert address["city"] == CRAFTED_CITY


# --- Finding 10: each former 500 -----------------------------------------------


def test_a_twenty_digit_page_of_the_patient_list_is_a_400_in_french(personas) -> None:
    client = signed_in(personas.coordinator)
    searches = AuditEntry.objects.filter(action=Action.SEARCH).count()

    response = client.get("/patients/", {"page": "99999999999999999999"})

    assert response.status_code == 400
    assert "Le numéro de page doit être un nombre entier de 1 à 100000." in page_text(response)
    # Refused before the search: nothing was searched, nothing audited as a search.
    assert AuditEntry.objects.filter(action=Action.SEARCH).count() == searches


def test_a_page_beyond_the_last_shows_the_last_page(personas) -> None:
    client = signed_in(personas.coordinator)

    response = client.get("/patients/", {"page": "4000"})

    assert response.status_code == 200
    assert "GIRARD" in page_text(response)
    last = AuditEntry.objects.filter(action=Action.SEARCH).latest("seq")
    assert last.detail["offset"] == 0


def test_huge_page_numbers_elsewhere_are_400s_and_beyond_the_last_the_last(personas) -> None:
    client = signed_in(personas.cardiologist.user)
    huge = client.get("/annuaire/", {"specialty": "", "page": "99999999999999999999"})
    assert huge.status_code == 400
    assert "Le numéro de page doit être" in page_text(huge)
    beyond = client.get("/annuaire/", {"name": "Lefèvre", "page": "99999"})
    assert beyond.status_code == 200
    assert "Lefèvre" in page_text(beyond)

    patient = signed_in(personas.patient_user)
    log = patient.get("/patients/mon-dossier/acces/", {"page": "99999999999999999999"})
    assert log.status_code == 400


@pytest.mark.parametrize("name", ["_offset", "_count"])
def test_fhir_paging_beyond_any_reach_is_an_operation_outcome(personas, name: str) -> None:
    from maillage.fhir.tests.conftest import Api, issues

    api = Api(Client())
    response = api.get(f"Patient?{name}=99999999999999999999", personas.treating_doctor)

    assert response.status_code == 400
    assert [i["code"] for i in issues(response)] == ["invalid"]


LONG = "x" * 60_000


def test_sixty_thousand_characters_in_the_commune_suggestions(personas) -> None:
    client = signed_in(personas.coordinator)

    response = client.get("/territoire/communes/suggestions/", {"commune": LONG})
    assert response.status_code == 400
    assert FRENCH_TOO_LONG in page_text(response)

    # Under the general bound, the view's own one answers.
    longer_than_a_name = client.get("/territoire/communes/suggestions/", {"commune": "x" * 121})
    assert longer_than_a_name.status_code == 400
    assert "« commune » dépasse 120 caractères." in page_text(longer_than_a_name)


def test_sixty_thousand_characters_in_the_recipient_suggestions(personas) -> None:
    client = signed_in(personas.treating_doctor.user)

    response = client.get("/messagerie/destinataires/suggestions/", {"recipients": LONG})
    assert response.status_code == 400
    assert FRENCH_TOO_LONG in page_text(response)

    # As long as the recipients field may be: answered.
    typed = "; ".join(["12345678901"] * 153) + "; Mor"
    assert len(typed) <= 2_000
    response = client.get("/messagerie/destinataires/suggestions/", {"recipients": typed})
    assert response.status_code == 200


def test_sixty_thousand_characters_in_the_admin_search(personas) -> None:
    personas.admin.is_superuser = True
    personas.admin.save(update_fields=["is_superuser"])
    client = signed_in(personas.admin)
    assert client.get("/admin/directory/structure/", {"q": "Sancoins"}).status_code == 200

    response = client.get("/admin/directory/structure/", {"q": LONG})

    assert response.status_code == 400
    assert FRENCH_TOO_LONG in page_text(response)


def test_a_long_fhir_parameter_is_an_operation_outcome(personas) -> None:
    from maillage.fhir.tests.conftest import Api, issues

    api = Api(Client())
    response = api.get(f"Patient?family={LONG}", personas.treating_doctor)

    assert response.status_code == 400
    (issue,) = issues(response)
    assert issue["code"] == "too-long"
    assert issue["diagnostics"].startswith(FRENCH_TOO_LONG)


def test_a_json_client_gets_json(personas) -> None:
    client = signed_in(personas.coordinator)
    response = client.get(
        "/territoire/communes/suggestions/", {"commune": LONG}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith(FRENCH_TOO_LONG)


def test_a_long_parameter_name_is_refused_too(personas) -> None:
    client = signed_in(personas.coordinator)
    response = client.get("/patients/", {"n" * 500: "1"})
    assert response.status_code == 400


def test_a_long_posted_field_is_refused_before_any_view(personas) -> None:
    client = Client()
    response = client.post(
        "/comptes/connexion/", {"username": "secretaire", "password": "p" * (MAX_FIELD_CHARS + 1)}
    )
    assert response.status_code == 400
    assert FRENCH_TOO_LONG in page_text(response)
    assert not AuditEntry.objects.filter(action=Action.LOGIN).exists()


# --- Every free-text field is bounded ---------------------------------------------


def _form_classes() -> list[type[forms.BaseForm]]:
    import importlib
    import pkgutil

    import maillage

    for module in pkgutil.walk_packages(maillage.__path__, "maillage."):
        if module.name.rsplit(".", 1)[-1] in {"forms", "admin"}:
            importlib.import_module(module.name)

    def subclasses(cls: type[Any]) -> Iterator[type[Any]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    return sorted(
        {c for c in subclasses(forms.BaseForm) if c.__module__.startswith("maillage.")},
        key=lambda c: f"{c.__module__}.{c.__name__}",
    )


def test_every_free_text_field_of_every_form_has_a_max_length() -> None:
    classes = _form_classes()
    assert len(classes) >= 10
    unbounded = [
        f"{cls.__module__}.{cls.__name__}.{name}"
        for cls in classes
        for name, field in cls.base_fields.items()  # type: ignore[attr-defined]
        # A UUID is parsed whole or refused; a user name is bounded by its model.
        if isinstance(field, forms.CharField)
        and not isinstance(field, forms.UUIDField)
        and type(field).__name__ != "UsernameField"
        and field.max_length is None
    ]
    assert unbounded == []
