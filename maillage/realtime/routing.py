from typing import Any

from django.urls import path

from maillage.realtime.consumers import EventsConsumer

# Channels routes ASGI applications with Django's path(); its stubs expect views.
websocket_urlpatterns: list[Any] = [
    path("ws/", EventsConsumer.as_asgi()),  # type: ignore[arg-type]
]
