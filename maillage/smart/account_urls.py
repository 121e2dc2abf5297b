from django.urls import path

from maillage.smart import account_views

app_name = "smart"

urlpatterns = [
    path("", account_views.apps, name="apps"),
    path("<slug:client_id>/revoquer/", account_views.revoke, name="revoke"),
]
