from django.urls import path

from maillage.regulation import views

app_name = "regulation"

urlpatterns = [
    path("", views.cases, name="cases"),
    path("ouvrir/", views.open_case, name="open"),
    path("<uuid:uuid>/cloture/", views.close_case, name="close"),
    path("revue/", views.review_queue, name="review_queue"),
    path("revue/<uuid:uuid>/", views.review, name="review"),
]
