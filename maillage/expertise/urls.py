from django.urls import path, re_path

from maillage.expertise import views, views_figures

app_name = "expertise"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("file/", views.queue, name="queue"),
    path("retards/", views.late, name="late"),
    path("demander/<uuid:patient_uuid>/", views.ask, name="ask"),
    path("pieces-jointes/<uuid:file_uuid>/", views.attachment, name="attachment"),
    path("<uuid:uuid>/", views.detail, name="detail"),
    path("<uuid:uuid>/brouillon/", views.edit, name="edit"),
    path("<uuid:uuid>/direct/", views.live, name="live"),
    path("<uuid:uuid>/prendre/", views.claim, name="claim"),
    path("<uuid:uuid>/ecrire/", views.write, name="write"),
    path("<uuid:uuid>/conclure/", views.conclude, name="conclude"),
    path("<uuid:uuid>/confier/", views.hand_over, name="hand_over"),
    path("<uuid:uuid>/annuler/", views.cancel, name="cancel"),
    path(
        "<uuid:uuid>/documents/<uuid:document_uuid>/<uuid:file_uuid>/",
        views.shared_file,
        name="shared_file",
    ),
]

# Response times and billing facts (views_figures).
urlpatterns += [
    path("chiffres/", views_figures.response_times, name="figures"),
    path("facturation/", views_figures.billing_months, name="billing"),
    # Fixed widths, no repetition: nothing for a regex to backtrack on.
    re_path(
        r"^facturation/(?P<year>[0-9]{4})-(?P<month>[0-9]{2})\.csv$",
        views_figures.billing_csv,
        name="billing_csv",
    ),
]
