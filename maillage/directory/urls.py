from django.urls import path

from maillage.directory import views

app_name = "directory"

urlpatterns = [
    path("", views.search, name="search"),
    path("structures/", views.structures, name="structures"),
    path("professionnels/<uuid:uuid>/", views.professional_detail, name="professional"),
    path("structures/<uuid:uuid>/", views.structure_detail, name="structure"),
]
