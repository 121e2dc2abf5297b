from __future__ import annotations

from django.contrib import admin

from maillage.records.models import HabilitationRule


@admin.register(HabilitationRule)
class HabilitationRuleAdmin(admin.ModelAdmin):
    """The habilitation matrix, edited as data; the record's gate reads it on every decision.

    Documents, consents and emergency accesses are not here: an administrator
    does not read patient data (emergency accesses have their review page).
    """

    list_display = ("role", "document_type", "can_read", "can_write")
    list_editable = ("can_read", "can_write")
    list_filter = ("role", "document_type")
    ordering = ("role", "document_type")
