"""WSGI entry point, for HTTP only (no WebSocket): a measurement and deployment option.

``make run`` serves ``maillage.asgi`` with uvicorn, which carries the
WebSocket of ``maillage.realtime``. Behind a proxy that sends ``/ws/`` to an
ASGI server, the pages and the API can be served by a WSGI server instead:
``bench.throughput --interface wsgi`` measures what that saves (Django's
ASGI handler runs each request's synchronous code in a new thread and
switches between async and sync middleware; see bench/README.md).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maillage.settings")

application = get_wsgi_application()
