from __future__ import annotations

from django.contrib import admin

from maillage.territory.models import Commune


@admin.register(Commune)
class CommuneAdmin(admin.ModelAdmin):
    """The official list: searchable for the other admin pages, not edited by hand."""

    list_display = ("name", "insee_code", "departement", "population")
    list_filter = ("departement",)
    search_fields = ("name", "insee_code")
    readonly_fields = ("insee_code", "name", "departement", "population", "latitude", "longitude")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
