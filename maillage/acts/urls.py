from django.urls import path

from maillage.acts import views

app_name = "acts"

urlpatterns = [
    path("comptes-rendus/", views.to_write, name="to_write"),
    path("<uuid:uuid>/compte-rendu/", views.report, name="report"),
]
