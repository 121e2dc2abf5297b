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

from maillage.serving import settle_process

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maillage.settings")
# A WSGI server's threads serve request after request, so each keeps its
# connection: SQLite's without opening the file and running its pragmas on
# every request, PostgreSQL's without the pool's checkout and return around
# each one (its statements stay prepared on it either way). Not under ASGI:
# there each request's code runs in a new thread, whose connection nobody
# would ever close, and connections come from the pool.
os.environ.setdefault("MAILLAGE_CONN_MAX_AGE", "600")
os.environ.setdefault("MAILLAGE_DB_POOL_SIZE", "0")

application = get_wsgi_application()
settle_process()
