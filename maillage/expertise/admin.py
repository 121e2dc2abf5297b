"""What an administrator changes as data: priorities and their deadlines, tariffs, pools.

Requests, their messages and files are not here: an administrator does not
read patient data.
"""

from __future__ import annotations

from django.contrib import admin

from maillage.expertise.models import Pool, PoolMember, Priority, Tariff


@admin.register(Priority)
class PriorityAdmin(admin.ModelAdmin):
    """A deadline changed here applies to requests sent from then on."""

    list_display = ("code", "hours", "fhir_code")
    list_editable = ("hours",)
    readonly_fields = ("code", "fhir_code")


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    """A new tariff is a new row from its date: the old one still prices earlier acts."""

    list_display = ("code", "amount", "valid_from", "yearly_limit_per_patient")
    list_filter = ("code",)


class PoolMemberInline(admin.TabularInline):
    model = PoolMember
    autocomplete_fields = ("professional",)
    extra = 1


@admin.register(Pool)
class PoolAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "specialty", "structure", "active")
    list_filter = ("kind", "specialty", "active")
    search_fields = ("name",)
    inlines = (PoolMemberInline,)
