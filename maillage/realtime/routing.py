from typing import Any

from django.urls import path

from maillage.realtime.consumers import EventsConsumer
from maillage.teleconsult.consumers import RoomConsumer

# Channels routes ASGI applications with Django's path(); its stubs expect views.
websocket_urlpatterns: list[Any] = [
    path("ws/", EventsConsumer.as_asgi()),  # type: ignore[arg-type]
    # A teleconsultation's waiting room and room (maillage.teleconsult).
    path("ws/teleconsult/<uuid:consultation>/", RoomConsumer.as_asgi()),  # type: ignore[arg-type]
]
