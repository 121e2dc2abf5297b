from django.urls import path

from maillage.agenda import views

app_name = "agenda"

urlpatterns = [
    path("", views.home, name="home"),
    path("creneaux/", views.free, name="free"),
    path("reserver/<uuid:slot_uuid>/", views.book, name="book"),
    path("rendez-vous/<uuid:uuid>/", views.appointment, name="appointment"),
    path("rendez-vous/<uuid:uuid>/annuler/", views.cancel, name="cancel"),
    path("rendez-vous/<uuid:uuid>/deplacer/", views.move, name="move"),
    path("rendez-vous/<uuid:uuid>/absent/", views.noshow, name="noshow"),
    path("<uuid:schedule_uuid>/jour/", views.day, name="day"),
    path("<uuid:schedule_uuid>/semaine/", views.week, name="week"),
    path("<uuid:schedule_uuid>/regles/", views.manage, name="manage"),
    path("maison/<uuid:structure_uuid>/jour/", views.house_day, name="house_day"),
    path("flux/", views.feed_settings, name="feed"),
    path("ical/<str:token>.ics", views.ical_feed, name="ical"),
]
