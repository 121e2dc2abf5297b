from django.urls import path, re_path

from maillage.fhir import views

app_name = "fhir"

urlpatterns = [
    path("", views.endpoint, name="base"),
    # Every path below the base goes to the FHIR router, which answers
    # unknown ones with an OperationOutcome.
    re_path(r"^(?P<path>.+)$", views.endpoint, name="endpoint"),
]
