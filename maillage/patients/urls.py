from django.urls import path

from maillage.patients import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("nouveau/", views.patient_create, name="create"),
    path("<uuid:uuid>/", views.patient_detail, name="detail"),
    path("<uuid:uuid>/modifier/", views.patient_edit, name="edit"),
    path("mon-dossier/", views.my_record, name="my_record"),
    path(
        "mon-dossier/structures/<uuid:structure>/retirer/",
        views.my_record_unlink,
        name="my_record_unlink",
    ),
    path("mon-dossier/acces/", views.my_access_log, name="my_access_log"),
]
