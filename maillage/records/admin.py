from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from maillage.accounts.administration import record_habilitation_change
from maillage.accounts.models import User
from maillage.records.models import HabilitationRule


@admin.register(HabilitationRule)
class HabilitationRuleAdmin(admin.ModelAdmin):
    """The habilitation matrix, edited as data; the record's gate reads it on every decision.

    Documents, consents and emergency accesses are not here: an administrator
    does not read patient data (emergency accesses have their review page).
    Every change of a cell is a chained audit entry of the administration
    journal. The matrix has one row per role and type: cells change, rows
    are neither added nor removed here.
    """

    list_display = ("role", "document_type", "can_read", "can_write")
    list_editable = ("can_read", "can_write")
    list_filter = ("role", "document_type")
    ordering = ("role", "document_type")
    readonly_fields = ("role", "document_type")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: HabilitationRule, form: Any, change: bool
    ) -> None:
        # Also called for each row changed in the list (list_editable).
        old = HabilitationRule.objects.filter(pk=obj.pk).first()
        super().save_model(request, obj, form, change)
        assert isinstance(request.user, User)
        record_habilitation_change(
            request.user,
            obj,
            (old.can_read, old.can_write) if old else None,
            (obj.can_read, obj.can_write),
        )
