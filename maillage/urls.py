from django.contrib import admin
from django.urls import include, path

from maillage.fhir import views as fhir_views
from maillage.smart import views as smart_views

urlpatterns = [
    # First: Django tries the patterns in order, and the API is the hottest
    # path (bench/README.md, "5 December").
    # The base without its slash is the base too: a client posting a Bundle
    # there must reach the FHIR router, not get an HTML redirect.
    path("fhir/r4", fhir_views.endpoint, name="fhir-base"),
    # Before the FHIR router, which answers everything else below its base.
    path(
        "fhir/r4/.well-known/smart-configuration",
        smart_views.smart_configuration,
        name="smart-configuration",
    ),
    path("fhir/r4/", include("maillage.fhir.urls")),
    path("", include("maillage.front.urls")),
    path("comptes/", include("maillage.accounts.urls")),
    path("annuaire/", include("maillage.directory.urls")),
    path("patients/", include("maillage.patients.urls")),
    path("dossier/", include("maillage.records.urls")),
    path("messagerie/", include("maillage.messaging.urls")),
    path("teleexpertise/", include("maillage.expertise.urls")),
    path("actes/", include("maillage.acts.urls")),
    path("agenda/", include("maillage.agenda.urls")),
    path("teleconsultation/", include("maillage.teleconsult.urls")),
    path("teleconsultation/", include("maillage.assisted.urls")),
    path("mesures/", include("maillage.measurements.urls")),
    path("notifications/", include("maillage.realtime.urls")),
    path("regulation/", include("maillage.regulation.urls")),
    path("territoire/", include("maillage.territory.urls")),
    path("o/", include("maillage.smart.urls")),
    # Outside /comptes/: reached only once the second factor is checked.
    path("applications/", include("maillage.smart.account_urls")),
    path("travail/", include("maillage.tasks.urls")),
    # ICE servers (TURN credentials) for the video room's participants.
    path("visio-reseau/", include("maillage.rtc.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "maillage.front.errors.bad_request"
handler403 = "maillage.front.errors.forbidden"
handler404 = "maillage.front.errors.not_found"
handler500 = "maillage.front.errors.server_error"
