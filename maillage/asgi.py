"""ASGI entry point, served by uvicorn (make run) or any ASGI server.

HTTP goes to Django as always. WebSocket connections are accepted at
``/ws/`` only (``realtime.routing``), from an allowed Origin (or from an API
client presenting a bearer token), and authenticated by the session cookie
with its second factor or by the token (``realtime.auth``).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maillage.settings")

# Django first: the routing below imports models.
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from maillage.realtime.auth import OriginOrBearer, RealtimeAuthMiddleware  # noqa: E402
from maillage.realtime.routing import websocket_urlpatterns  # noqa: E402
from maillage.serving import settle_process  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": OriginOrBearer(RealtimeAuthMiddleware(URLRouter(websocket_urlpatterns))),
    }
)
settle_process()
