from django.urls import path

from maillage.teleconsult import views

app_name = "teleconsult"

urlpatterns = [
    path("", views.index, name="index"),
    # The token is in the path (a link in an SMS); the page sends no referrer elsewhere.
    path("invitation/<str:token>/", views.guest, name="guest"),
    path("rendez-vous/<uuid:appointment_uuid>/", views.from_appointment, name="appointment"),
    path("<uuid:uuid>/", views.act, name="act"),
    path("<uuid:uuid>/consentement/", views.consent, name="consent"),
    path("<uuid:uuid>/inviter/", views.invite, name="invite"),
    path("<uuid:uuid>/fichiers/", views.share, name="share"),
    path("<uuid:uuid>/fichiers/<uuid:file_uuid>/", views.shared, name="shared"),
    path("<uuid:uuid>/fichiers/<uuid:file_uuid>/classer/", views.file_in_record, name="file"),
]
