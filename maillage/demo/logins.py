"""The demo logins table, printed by `load_demo` and `demo_logins` (operator output)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils import translation

from maillage.accounts.models import Role, User
from maillage.demo import data


@dataclass(frozen=True)
class LoginRow:
    username: str
    role_label: str
    what_to_try: str
    present: bool


def login_rows() -> list[LoginRow]:
    present = set(
        User.objects.filter(
            username__in=[login.username for login in data.LOGINS], is_demo=True
        ).values_list("username", flat=True)
    )
    with translation.override("fr"):
        return [
            LoginRow(
                login.username,
                str(Role(login.role).label),
                login.what_to_try,
                login.username in present,
            )
            for login in data.LOGINS
        ]


def render_logins(rows: list[LoginRow]) -> str:
    """A plain-text table, then the password and what demo mode changes."""
    user_width = max(len("Identifiant"), *(len(r.username) for r in rows))
    role_width = max(len("Rôle"), *(len(r.role_label) for r in rows))
    lines = [
        "Comptes de démonstration",
        "",
        f"{'Identifiant':<{user_width}}  {'Rôle':<{role_width}}  À essayer",
        f"{'-' * user_width}  {'-' * role_width}  {'-' * 9}",
    ]
    for row in rows:
        missing = "" if row.present else "  [absent]"
        lines.append(
            f"{row.username:<{user_width}}  {row.role_label:<{role_width}}  "
            f"{row.what_to_try}{missing}"
        )
    lines += ["", f"Mot de passe commun : {data.DEMO_PASSWORD}"]
    if settings.DEMO_MODE:
        lines.append(
            "Mode démo actif (MAILLAGE_DEMO_MODE=1) : ces comptes se connectent sans second "
            "facteur ; un bandeau le rappelle à l'écran."
        )
    else:
        lines.append(
            "Mode démo inactif : les comptes de professionnels devront enrôler un second "
            "facteur (TOTP). Lancez avec MAILLAGE_DEMO_MODE=1 pour s'en passer."
        )
    return "\n".join(lines)
