from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActsConfig(AppConfig):
    name = "maillage.acts"
    label = "acts"
    verbose_name = _("Teleconsultation acts")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from maillage.acts.facts import forget_rules
        from maillage.acts.models import DirectAccessSpecialty, Rule, Tariff, UnderservedCommune

        # The rules of a day are cached per process: any change of their rows forgets them.
        for model in (Tariff, Rule, DirectAccessSpecialty, UnderservedCommune):
            for signal in (post_save, post_delete):
                signal.connect(
                    forget_rules, sender=model, dispatch_uid=f"acts-rules-{model.__name__}"
                )
