from django.urls import path

from maillage.acts import views

app_name = "acts"

urlpatterns = [
    path("<uuid:uuid>/compte-rendu/", views.report, name="report"),
]
