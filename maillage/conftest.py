"""Personas shared by every app's tests (STYLE.md, point 6)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, settings

from maillage.accounts.models import Role, User
from maillage.directory.models import Professional, Structure, StructureKind
from maillage.directory.terminology import Profession, Specialty
from maillage.patients.models import Patient
from maillage.testing import factories as f

# Playwright's sync API runs an event loop in the test thread; the ORM calls a
# test makes between two clicks are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

_ON_POSTGRESQL = os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql"))

# Hypothesis's timing checks fail a property on a loaded machine (two cores, the
# suite in two processes): time is measured by bench/, never by a test. Each
# test's own @settings still sets its number of examples.
settings.register_profile("maillage", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("maillage")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests click through the pages once, on SQLite, unless marked ``postgresql_too``.

    The suite runs twice (SQLite, then PostgreSQL) and must stay under 20
    minutes on two cores. What a page does with the database is proven on
    both by the tests of its actions, policy and views; a browser test adds
    the clicks and the screen, which do not depend on the database. Those
    whose path does differ there (the Redis channel layer and the RQ queue,
    used beside PostgreSQL in CI) are marked to run on both.
    """
    if not _ON_POSTGRESQL:
        return
    once = pytest.mark.skip(reason="a browser flow, run on SQLite (conftest: the suite's budget)")
    no_database = pytest.mark.skip(reason="touches no database: proven once, on SQLite")
    for item in items:
        sqlite_only = item.get_closest_marker("sqlite_only")
        if sqlite_only is not None:
            reason = sqlite_only.args[0] if sqlite_only.args else "run once, on SQLite"
            item.add_marker(pytest.mark.skip(reason=f"{reason} (conftest: the suite's budget)"))
        elif item.get_closest_marker("browser") and not item.get_closest_marker("postgresql_too"):
            item.add_marker(once)
        elif not _uses_database(item):
            # Pure code (parsers, rules, geometry): the same test on either database.
            item.add_marker(no_database)


_DATABASE_FIXTURES = frozenset(
    {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback"}
)


def _uses_database(item: pytest.Item) -> bool:
    if item.get_closest_marker("django_db"):
        return True
    return bool(_DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))


@dataclass
class Personas:
    msp: Structure  # MSP of Sancoins (Cher), follows the patient
    hospital: Structure  # CH of Bourges
    mobile_unit: Structure
    patient: Patient
    patient_user: User
    treating_doctor: Professional  # her médecin traitant, at the MSP
    cardiologist: Professional  # hospital specialist, no link with her
    nurse: Professional  # nurse of the mobile unit and the MSP
    coordinator: User  # secretary of the MSP
    regulator: User
    analyst: User  # aggregates only
    social_worker: User  # of the MSP
    admin: User
    stranger_coordinator: User  # secretary of another MSP

    def user(self, name: str) -> User:
        value = getattr(self, name)
        user = value.user if isinstance(value, Professional) else value
        assert isinstance(user, User)
        return user


@pytest.fixture
def personas(db: None) -> Personas:
    f.ensure_communes()
    f.ensure_habilitations()
    f.ensure_expertise_data()
    msp = f.structure("Maison de santé de Sancoins", StructureKind.MSP, "18242")
    other_msp = f.structure("Maison de santé de Lignières", StructureKind.MSP, "18127")
    hospital = f.structure("Centre hospitalier de Bourges", StructureKind.HOSPITAL, "18033")
    mobile_unit = f.structure("Unité mobile du Boischaut", StructureKind.MOBILE_UNIT, "18242")
    gp = f.professional(
        "medecin.traitant",
        last_name="Morel",
        first_name="Claire",
        specialty=Specialty.GENERAL_PRACTICE_QUALIFIED,
        structures=(msp,),
    )
    cardiologist = f.professional(
        "cardiologue",
        last_name="Lefèvre",
        first_name="Hugo",
        specialty=Specialty.CARDIOLOGY,
        structures=(hospital,),
    )
    nurse = f.professional(
        "infirmier",
        last_name="Roux",
        first_name="Inès",
        profession=Profession.NURSE,
        structures=(mobile_unit, msp),
    )
    patient_user = f.user("patient", Role.PATIENT, first_name="Micheline", last_name="Girard")
    patient = f.patient(
        "GIRARD",
        "Micheline",
        followed_by=(msp,),
        treating_doctor=gp,
        user=patient_user,
        commune=f.commune("18242"),
    )
    coordinator = f.user("secretaire", Role.COORDINATOR, first_name="Sophie", last_name="Blanc")
    coordinator.structures.add(msp)
    stranger = f.user("secretaire.lignieres", Role.COORDINATOR)
    stranger.structures.add(other_msp)
    social_worker = f.user("travailleur.social", Role.SOCIAL_WORKER)
    social_worker.structures.add(msp)
    return Personas(
        msp=msp,
        hospital=hospital,
        mobile_unit=mobile_unit,
        patient=patient,
        patient_user=patient_user,
        treating_doctor=gp,
        cardiologist=cardiologist,
        nurse=nurse,
        coordinator=coordinator,
        regulator=f.user("regulateur", Role.REGULATOR),
        analyst=f.user("analyste", Role.ANALYST),
        social_worker=social_worker,
        admin=f.user("admin", Role.ADMIN, is_staff=True, is_superuser=False),
        stranger_coordinator=stranger,
    )


# --- Browser tests ------------------------------------------------------------


@pytest.fixture(scope="session")
def _uvicorn(django_db_setup: None, django_db_blocker: object) -> object:
    from maillage.testing.browser import ThreadedServer

    server = ThreadedServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def live_url(_uvicorn: object, transactional_db: None) -> str:
    """Base URL of the app served for real, with data committed by the test."""
    return _uvicorn.url  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def _playwright() -> object:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def chromium(_playwright: object) -> object:
    from maillage.testing.browser import CHROMIUM, CHROMIUM_ARGS

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package.")
    browser = _playwright.chromium.launch(  # type: ignore[attr-defined]
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def media_chromium(_playwright: object) -> object:
    """A Chromium with fake camera and microphone (maillage.testing.room), one per module."""
    from maillage.testing.browser import CHROMIUM, CHROMIUM_ARGS
    from maillage.testing.room import MEDIA_ARGS

    browser = _playwright.chromium.launch(  # type: ignore[attr-defined]
        executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *MEDIA_ARGS]
    )
    yield browser
    browser.close()


@pytest.fixture
def page(chromium: object, live_url: str) -> object:
    from playwright.sync_api import expect

    context = chromium.new_context(  # type: ignore[attr-defined]
        base_url=live_url,
        locale="fr-FR",
        timezone_id="Europe/Paris",
        viewport={"width": 1280, "height": 900},
    )
    # Generous waits: CI's two cores also run the server and the database.
    context.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(autouse=True)
def _acts_rules_read_anew() -> None:
    """The acts' rules are cached per process: rows of an earlier test (rolled back, or
    flushed by a transactional test, neither of which signals) must not outlive it."""
    from maillage.acts.facts import forget_rules

    forget_rules()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: object) -> None:
    """Argon2 is slow on purpose; tests use a fast hasher except where argon2 is the subject."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]
    # Off in production (a third of a FHIR read): every test response proves
    # its mapper against the R4B model instead (maillage.fhir.validation.emit).
    settings.MAILLAGE_FHIR_VALIDATE_RESPONSES = True  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _audit_outside_the_database(
    request: pytest.FixtureRequest, settings: object, tmp_path_factory: pytest.TempPathFactory
) -> object:
    """Each test gets its own audit key and checkpoint directory, never var/.

    Transactional tests end with Django emptying every table, which the audit
    triggers refuse for a non-empty trail (audit migration 0005): this fixture
    is made to depend on ``transactional_db`` so that it is torn down first,
    and empties the trail under the one-transaction permit just before.
    """
    from maillage.audit.testing import empty_trail

    outside = tmp_path_factory.mktemp("audit")
    settings.MAILLAGE_AUDIT_KEYS = ""  # type: ignore[attr-defined]
    settings.MAILLAGE_AUDIT_KEY_FILE = str(outside / "audit-keys.json")  # type: ignore[attr-defined]
    settings.MAILLAGE_AUDIT_CHECKPOINT_DIR = str(outside / "checkpoints")  # type: ignore[attr-defined]
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
        or (marker and (marker.kwargs.get("transaction") or marker.args[:1] == (True,)))
    )
    if not transactional:
        yield
        return
    request.getfixturevalue("transactional_db")
    yield
    empty_trail()
