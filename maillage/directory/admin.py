from __future__ import annotations

from django.contrib import admin

from maillage.directory.models import Practice, Professional, Structure, StructureEquipment


class EquipmentInline(admin.TabularInline):
    model = StructureEquipment
    extra = 1


class PracticeInline(admin.TabularInline):
    model = Practice
    extra = 1
    autocomplete_fields = ("structure",)


@admin.register(Structure)
class StructureAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "commune", "finess", "active")
    list_filter = ("kind", "active", "commune__departement")
    search_fields = ("name", "finess", "siret", "commune__name")
    autocomplete_fields = ("commune",)
    inlines = (EquipmentInline,)


@admin.register(Professional)
class ProfessionalAdmin(admin.ModelAdmin):
    list_display = ("last_name", "first_name", "profession", "specialty", "rpps", "active")
    list_filter = ("profession", "specialty", "accepts_teleexpertise", "active")
    search_fields = ("last_name", "first_name", "rpps")
    autocomplete_fields = ("user",)
    inlines = (PracticeInline,)
