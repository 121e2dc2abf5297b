from django.urls import path

from maillage.assisted import debrief_views, views

app_name = "assisted"

urlpatterns = [
    path("<uuid:uuid>/assistance/", views.add_assistant, name="add_assistant"),
    # After the call: the assistant's debrief of the act, its orientation and summary.
    path("apres-l-appel/", debrief_views.mine, name="debriefs"),
    path("<uuid:uuid>/bilan/", debrief_views.debrief_page, name="debrief"),
    path("<uuid:uuid>/bilan/etat/", debrief_views.status, name="debrief_status"),
    path("<uuid:uuid>/bilan/proposer/", debrief_views.propose, name="propose"),
    path(
        "<uuid:uuid>/bilan/propositions/<uuid:proposal>/",
        debrief_views.choose,
        name="choose",
    ),
    path("<uuid:uuid>/bilan/ordonnance/", debrief_views.prescription, name="prescription"),
    path("<uuid:uuid>/bilan/resume/", debrief_views.summary, name="summary"),
    path("<uuid:uuid>/captures/", views.send_media, name="send_media"),
]
