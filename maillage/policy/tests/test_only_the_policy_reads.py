"""Only the policy (and the queries it owns) reads patient data.

Every module of ``maillage/`` is parsed with ``ast``. A module *reads* a
patient-data model when it touches its manager (``Document.objects``, an
alias of it, ``_default_manager``...) or hands the model to something that
queries it (``get_object_or_404(Patient, ...)``, ``admin.register(Document)``).
Reading is allowed in the policy, in the writers (``models.py``,
``actions.py``, which receive what the policy opened), in migrations, the
demo, test helpers and tests, in the two query modules the policy's callers
run on what it opened, and in the commented allow-list below. Anything else
fails this test: the next capability cannot skip the policy without saying
why here.
"""

from __future__ import annotations

import ast
import pickle
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import maillage

ROOT = Path(maillage.__file__).parent

PATIENT_DATA = {
    "patients": {"Patient", "PatientVersion"},
    "records": {
        "Document",
        "DocumentFile",
        "Consent",
        "CareTeamMember",
        "BreakGlassAccess",
    },
    "regulation": {"RegulationCase"},
    # Threads are about patients; their messages and attachments carry the data.
    "messaging": {"Thread", "Message", "Attachment", "Participant", "Delivery"},
    # A tele-expertise request is about a patient; its messages and files carry the data.
    "expertise": {"Request", "Message", "Attachment"},
    # A teleconsultation is about a patient; its chat and shared files carry the data.
    "teleconsult": {"Consultation", "ChatMessage", "SharedFile"},
    # A teleconsultation's report and the act recorded at its closing.
    "acts": {"Report", "RecordedAct"},
    # An appointment names a patient, her reason and her professional.
    "agenda": {"Appointment"},
    # A patient's readings, and her photos, sounds and tracings.
    "measurements": {"Observation", "Media"},
    # The patient's orientation after an assisted act: whom she was proposed, her answer.
    "assisted": {"OrientationProposal"},
}
MODELS = {name for names in PATIENT_DATA.values() for name in names}
MANAGERS = {"objects", "_default_manager", "_base_manager"}
# Shortcuts that query the model given first; registering a model in the admin
# hands its rows to whoever administers.
SHORTCUTS = {"get_object_or_404", "get_list_or_404", "admin.register", "admin.site.register"}

# Modules the policy's callers run on what it opened: every public function
# that reads takes an opening (RecordAccess, PatientAccess), a thread the
# messaging policy handed out, or the user whose own data it reads.
OWNED_QUERIES = {
    "records/queries.py",
    "messaging/queries.py",
    "patients/queries.py",
    "expertise/queries.py",
    "acts/queries.py",
}
OPENED = {"RecordAccess", "PatientAccess", "Thread", "User", "RequestAccess"}

# Anything else that must still read, each with the reason it may.
ALLOWED: dict[str, str] = {
    "expertise/deadlines.py": "the clock reads due times and participants to send notices that "
    "carry no health data; it decides nothing and shows nothing",
    "expertise/opinion.py": "writes the opinion of a request the specialist just concluded "
    "through policy.expertise; the record and messaging gates decide the filing and each send",
    "expertise/billing.py": "counts a patient's concluded requests for the yearly limit of a "
    "request its caller opened through policy.expertise",
    "acts/facts.py": "for the eligibility of a patient its caller opened through the policy: "
    "the day of her last in-person visit with the doctor, and counts of the doctor's acts of "
    "the year for the cap; no row shown",
    "acts/write_once.py": "writes the report's documents of an act its doctor is closing "
    "through policy.acts; the record and messaging gates decide the filing and each send",
    "agenda/queries.py": "lists the appointments of an agenda its manager opened (day and week "
    "views, a slot to move to); the view names a patient only as policy.agenda.shows_patient "
    "allows, and audits each one named",
    "agenda/slots.py": "names the booked appointments an absence covers to the agenda's manager; "
    "the view shows them only as policy.agenda allows, audited",
    "agenda/reminders.py": "the clock reads start times to send reminders that carry no health "
    "data; each receiver is decided by policy.agenda (APPOINTMENT_RECEIVE), audited",
    "assisted/orientation.py": "the writer of orientation proposals (the actions of the debrief): "
    "each step opens the act through policy.orientation, whose seat it is handed",
    "agenda/ical.py": "a professional's own appointments for their private feed; a patient is "
    "named only as policy.agenda allows, each one audited on every fetch",
}


def _allowed_by_place(relative: str) -> bool:
    parts = relative.split("/")
    name = parts[-1]
    return (
        parts[0] in {"policy", "demo", "testing"}
        or "tests" in parts
        or "migrations" in parts
        or name in {"models.py", "actions.py", "conftest.py"}
        or relative in OWNED_QUERIES
        or relative in ALLOWED
    )


@dataclass(frozen=True)
class Read:
    module: str
    line: int
    model: str

    def __str__(self) -> str:
        return f"maillage/{self.module}:{self.line} reads {self.model}"


def _model_aliases(tree: ast.Module, relative: str) -> tuple[dict[str, str], set[str]]:
    """Local names bound to a patient-data model, and names bound to a models module."""
    app = relative.split("/")[0]
    models: dict[str, str] = {}
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = node.module or ""
            if node.level:  # from .models import Document, from . import models
                source = f"maillage.{app}.{source}" if source else f"maillage.{app}"
            for alias in node.names:
                bound = alias.asname or alias.name
                if source.endswith(".models") and alias.name in MODELS:
                    models[bound] = alias.name
                elif alias.name == "models" and source.startswith("maillage"):
                    modules.add(bound)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("maillage.") and alias.name.endswith(".models"):
                    modules.add(alias.asname or alias.name)
    return models, modules


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _model_named(node: ast.expr, models: dict[str, str], modules: set[str]) -> str | None:
    """The patient-data model an expression names (``Document``, ``records_models.Document``)."""
    if isinstance(node, ast.Name):
        return models.get(node.id)
    if isinstance(node, ast.Attribute) and node.attr in MODELS:
        return node.attr if _dotted(node.value) in modules else None
    return None


_PARSE_ELSEWHERE = (
    "import ast, pickle, sys; sys.stdout.buffer.write(pickle.dumps(ast.parse(sys.stdin.read())))"
)


def _parse(source: str) -> ast.Module:
    """``ast.parse``, or in a fresh interpreter when this one's recursion counters are off.

    CPython 3.11 can raise "AST constructor recursion depth mismatch" in a
    process where an earlier test moved the recursion limit (hypothesis does,
    for deep strategies); a fresh thread did not avoid it in CI, a fresh
    process does. The tree is the same either way.
    """
    try:
        return ast.parse(source)
    except SystemError:
        done = subprocess.run(
            [sys.executable, "-c", _PARSE_ELSEWHERE],
            input=source.encode(),
            capture_output=True,
            check=True,
        )
        tree = pickle.loads(done.stdout)  # noqa: S301 (our own child's output)
        assert isinstance(tree, ast.Module)
        return tree


def reads_in(source: str, relative: str) -> list[Read]:
    tree = _parse(source)
    return _reads(tree, relative, *_model_aliases(tree, relative))


def _reads(node: ast.AST, relative: str, models: dict[str, str], modules: set[str]) -> list[Read]:
    """Each manager touched under ``node`` (``manager = Document.objects`` included)."""
    found = []
    for child in ast.walk(node):
        if isinstance(child, ast.Attribute) and child.attr in MANAGERS:
            named = _model_named(child.value, models, modules)
        elif isinstance(child, ast.Call) and child.args and _dotted(child.func) in SHORTCUTS:
            named = _model_named(child.args[0], models, modules)
        else:
            continue
        if named:
            found.append(Read(relative, child.lineno, named))
    return sorted(found, key=lambda read: read.line)


def _modules() -> list[tuple[str, str]]:
    return [
        (path.relative_to(ROOT).as_posix(), path.read_text(encoding="utf-8"))
        for path in sorted(ROOT.rglob("*.py"))
    ]


def test_no_module_outside_the_policy_reads_patient_data() -> None:
    offenders = [
        str(read)
        for relative, source in _modules()
        if not _allowed_by_place(relative)
        for read in reads_in(source, relative)
    ]
    assert offenders == [], "Ask maillage.policy.gate instead:\n" + "\n".join(offenders)


def test_every_allowed_exception_still_reads_and_says_why() -> None:
    """An entry that no longer reads anything is removed, not left to cover a new read."""
    sources = dict(_modules())
    for relative, reason in ALLOWED.items():
        assert reason.strip(), relative
        assert relative in sources, f"{relative} is gone: remove it from ALLOWED"
        assert reads_in(sources[relative], relative), f"{relative} no longer reads: remove it"


def test_the_owned_queries_take_what_the_policy_opened() -> None:
    """Each public function of the owned query modules that reads says what it was given."""
    sources = dict(_modules())
    for relative in sorted(OWNED_QUERIES):
        tree = ast.parse(sources[relative])
        aliases = _model_aliases(tree, relative)
        functions = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}
        for name, function in functions.items():
            if name.startswith("_"):
                continue
            # A read through a private helper of the same module is a read too.
            helpers = [
                functions[called.func.id]
                for called in ast.walk(function)
                if isinstance(called, ast.Call)
                and isinstance(called.func, ast.Name)
                and called.func.id.startswith("_")
                and called.func.id in functions
            ]
            if not any(_reads(f, relative, *aliases) for f in [function, *helpers]):
                continue
            given = {
                _dotted(a.annotation).rsplit(".", 1)[-1]
                for a in [*function.args.posonlyargs, *function.args.args]
                if a.annotation is not None
            }
            assert given & OPENED, (
                f"maillage/{relative}: {name}() reads patient data from "
                f"{sorted(given) or 'nothing'}; give it what the policy opened"
            )
            assert ast.get_docstring(function), f"maillage/{relative}: {name}() says what it reads"


def test_the_detector_sees_the_shapes_a_read_takes() -> None:
    """The scanner itself: each way of reaching a manager is caught, lookalikes are not."""
    source = """
from maillage.records.models import Document as D, HabilitationRule
from maillage.patients import models as patient_models
import maillage.messaging.models as mm
from django.shortcuts import get_object_or_404
from .models import Consent
from django.contrib import admin

@admin.register(D)
class DocumentAdmin(admin.ModelAdmin):
    pass

def f(x):
    D.objects.filter(pk=1)
    patient_models.Patient._default_manager.all()
    mm.Thread.objects.first()
    get_object_or_404(Consent, pk=1)
    HabilitationRule.objects.all()
    x.objects.all()
"""
    found = [(r.line, r.model) for r in reads_in(source, "records/views.py")]
    assert found == [
        (9, "Document"),
        (14, "Document"),
        (15, "Patient"),
        (16, "Thread"),
        (17, "Consent"),
    ]
