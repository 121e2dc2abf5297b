from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from maillage.accounts.actions import issue_api_token
from maillage.accounts.models import User


class Command(BaseCommand):
    help = (
        "Print a new FHIR API bearer token for USERNAME (only its hash is stored); "
        "its expiry goes to standard error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--label", default="", help="what the token is for")
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"days of validity (default {settings.MAILLAGE_API_TOKEN_DAYS})",
        )

    def handle(
        self, *args: Any, username: str, label: str, days: int | None, **options: Any
    ) -> None:
        if days is not None and not 1 <= days <= 366:
            raise CommandError("--days must be between 1 and 366.")
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        issued = issue_api_token(user, label, days)
        # The token alone on standard output, so that a script can capture it.
        self.stdout.write(issued.raw)
        expires = timezone.localtime(issued.token.expires_at)
        self.stderr.write(f"Expires on {expires:%Y-%m-%d %H:%M %Z} ({expires.isoformat()}).")
