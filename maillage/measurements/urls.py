from django.urls import path

from maillage.measurements import views

app_name = "measurements"
urlpatterns = [
    path("<uuid:uuid>/significative", views.mark, name="mark"),
    path("media/<uuid:uuid>/fichier", views.media_file, name="media_file"),
]
