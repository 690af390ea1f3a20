"""HTTP through Django (tenant chosen by django-tenants' middleware), websockets through
Channels with the tenant resolved by our own middleware."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "saas.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from helpdesk.routing import websocket_urlpatterns  # noqa: E402
from tenants.channels_middleware import TenantWebsocketMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": TenantWebsocketMiddleware(URLRouter(websocket_urlpatterns)),
    }
)
