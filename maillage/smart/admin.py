"""Administrators register apps (the toolkit's Application admin) and bind system clients."""

from django.contrib import admin

from maillage.smart.models import SystemClient


@admin.register(SystemClient)
class SystemClientAdmin(admin.ModelAdmin[SystemClient]):
    list_display = ("application", "user")
    raw_id_fields = ("application", "user")
