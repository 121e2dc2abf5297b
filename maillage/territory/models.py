from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from maillage.lib.geo import GeoPoint
from maillage.lib.names import normalise_name


class Commune(models.Model):
    """A commune of the territory (INSEE COG), with its centroid."""

    insee_code = models.CharField(_("INSEE code"), max_length=5, unique=True)
    name = models.CharField(_("name"), max_length=100)
    # Accent- and case-free name, for lookups typed by people.
    search_name = models.CharField(max_length=100, db_index=True, editable=False)
    departement = models.CharField(_("département"), max_length=3, db_index=True)
    population = models.PositiveIntegerField(_("population"))
    latitude = models.FloatField()
    longitude = models.FloatField()

    class Meta:
        ordering = ["name"]
        verbose_name = _("commune")
        verbose_name_plural = _("communes")

    def __str__(self) -> str:
        return f"{self.name} ({self.departement})"

    def save(self, *args: object, **kwargs: object) -> None:
        self.search_name = normalise_name(self.name)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def point(self) -> GeoPoint:
        return GeoPoint(self.latitude, self.longitude)
