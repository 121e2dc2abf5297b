"""Who sees the background work: administrators (staff accounts of the admin role) only."""

from __future__ import annotations

from maillage.accounts.models import Role, User


def may_watch_work(user: User) -> bool:
    return user.is_active and user.is_staff and user.role == Role.ADMIN
