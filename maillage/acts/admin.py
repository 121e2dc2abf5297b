"""What an administrator changes as data: tariffs, rules, direct-access specialties, ZIP communes.

A change of convention is a new row from its date (the old row still decides
for earlier acts); a rule is switched off by a new row with "in force" unticked.
"""

from __future__ import annotations

from django.contrib import admin

from maillage.acts.models import Convention, DirectAccessSpecialty, Rule, Tariff, UnderservedCommune


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = ("code", "amount", "valid_from", "valid_to")
    list_filter = ("code",)


@admin.register(Rule)
class RuleAdmin(admin.ModelAdmin):
    list_display = ("code", "active", "parameter", "valid_from", "valid_to")
    list_filter = ("code", "active")


@admin.register(DirectAccessSpecialty)
class DirectAccessSpecialtyAdmin(admin.ModelAdmin):
    list_display = ("specialty", "min_age", "max_age", "valid_from", "valid_to")


@admin.register(UnderservedCommune)
class UnderservedCommuneAdmin(admin.ModelAdmin):
    list_display = ("insee_code", "name", "valid_from", "valid_to")
    search_fields = ("insee_code", "name")


@admin.register(Convention)
class ConventionAdmin(admin.ModelAdmin):
    list_display = ("professional", "sector", "optam")
    list_filter = ("sector", "optam")
    autocomplete_fields = ("professional",)
