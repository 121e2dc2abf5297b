from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _

from maillage.accounts.administration import change_structures
from maillage.accounts.models import User
from maillage.directory.models import Practice, Professional, Structure, StructureEquipment
from maillage.directory.queries import structures_of


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
    """A professional's practices are the structures of their account: changes are audited.

    An administrator never links his own account to a professional, nor
    changes the practices of a professional whose account is his own.
    """

    list_display = ("last_name", "first_name", "profession", "specialty", "rpps", "active")
    list_filter = ("profession", "specialty", "accepts_teleexpertise", "active")
    search_fields = ("last_name", "first_name", "rpps")
    autocomplete_fields = ("user",)
    inlines = (PracticeInline,)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> type[forms.ModelForm]:
        base = super().get_form(request, obj, change=change, **kwargs)
        by_pk = request.user.pk

        class Checked(base):  # type: ignore[valid-type,misc]
            def clean(self) -> dict[str, Any]:
                data: dict[str, Any] = super().clean()
                linked = data.get("user")
                if by_pk in {getattr(linked, "pk", None), getattr(obj, "user_id", None)}:
                    raise ValidationError(
                        _(
                            "You cannot link your own account to a professional "
                            "nor change its practices."
                        )
                    )
                return data

        return Checked

    def save_model(self, request: HttpRequest, obj: Professional, form: Any, change: bool) -> None:
        previous = Professional.objects.filter(pk=obj.pk).values_list("user_id", flat=True).first()
        # Where each account concerned worked before the change.
        form._before = {
            pk: list(structures_of(User(pk=pk))) for pk in {previous, obj.user_id} if pk is not None
        }
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        assert isinstance(request.user, User)
        for user in User.objects.filter(pk__in=form._before):
            change_structures(request.user, user, form._before[user.pk], structures_of(user))
