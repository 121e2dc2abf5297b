from django.urls import path

from maillage.rtc import views

app_name = "rtc"
urlpatterns = [
    path("<uuid:consultation>/ice.json", views.ice, name="ice"),
]
