from django.urls import path

from maillage.records import patient_views, views

app_name = "records"

urlpatterns = [
    path("urgence/", views.break_glass, name="break_glass"),
    path("revue-urgences/", views.review_queue, name="review_queue"),
    path("revue-urgences/<uuid:uuid>/", views.review, name="review"),
    path("mes-documents/", patient_views.my_documents, name="my_documents"),
    path("mes-choix/", patient_views.my_consents, name="my_consents"),
    path("mes-choix/modifier/", patient_views.change_consent, name="change_consent"),
    path("documents/<uuid:uuid>/", views.document_view, name="document"),
    path("documents/<uuid:uuid>/fichiers/<uuid:file_uuid>/", views.download, name="download"),
    path("documents/<uuid:uuid>/nouvelle-version/", views.replace, name="replace"),
    path("documents/<uuid:uuid>/retrait/", views.withdraw, name="withdraw"),
    path("documents/<uuid:uuid>/masquer/", patient_views.mask, name="mask"),
    path("<uuid:uuid>/", views.record_view, name="record"),
    path("<uuid:uuid>/ajouter/", views.add_document, name="add_document"),
    path("<uuid:uuid>/equipe/", views.care_team_act, name="care_team_act"),
]
