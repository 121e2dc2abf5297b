"""ASGI entry point, served by uvicorn (make run) or any ASGI server."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "maillage.settings")

application = get_asgi_application()
