from django.urls import path

from maillage.realtime import views

app_name = "realtime"
urlpatterns = [
    path("", views.notifications, name="notifications"),
]
