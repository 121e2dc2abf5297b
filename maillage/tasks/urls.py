from django.urls import path

from maillage.tasks import views

app_name = "tasks"

urlpatterns = [
    path("", views.work, name="work"),
]
