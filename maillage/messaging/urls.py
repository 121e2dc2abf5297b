from django.urls import path

from maillage.messaging import views

app_name = "messaging"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("nouveau/", views.compose, name="compose"),
    path("destinataires/suggestions/", views.recipient_suggestions, name="recipient_suggestions"),
    path("<uuid:uuid>/", views.thread_view, name="thread"),
    path("<uuid:uuid>/repondre/", views.reply, name="reply"),
    path(
        "<uuid:uuid>/pieces-jointes/<uuid:attachment_uuid>/",
        views.download,
        name="download",
    ),
    path(
        "<uuid:uuid>/pieces-jointes/<uuid:attachment_uuid>/classer/",
        views.file_into_record,
        name="file_into_record",
    ),
    path(
        "<uuid:uuid>/messages/<uuid:message_uuid>/renvoyer/",
        views.send_again,
        name="send_again",
    ),
]
