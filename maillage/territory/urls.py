from django.urls import path

from maillage.territory import views

app_name = "territory"

urlpatterns = [
    path("communes/suggestions/", views.commune_suggestions, name="commune_suggestions"),
]
