from django.urls import path

from maillage.assisted import views

app_name = "assisted"

urlpatterns = [
    path("<uuid:uuid>/assistance/", views.add_assistant, name="add_assistant"),
]
