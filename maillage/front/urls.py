from django.urls import path

from maillage.front import views

app_name = "front"

urlpatterns = [
    path("", views.home, name="home"),
    path("indicateurs/", views.indicators_view, name="indicators"),
]
