from django.urls import path

from maillage.measurements import views

app_name = "measurements"
urlpatterns = [
    path("<uuid:uuid>/significative", views.mark, name="mark"),
]
