from django.urls import path

from maillage.expertise import views

app_name = "expertise"

urlpatterns = [
    path("<uuid:uuid>/", views.detail, name="detail"),
]
