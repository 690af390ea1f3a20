"""HTTP through Django (tenant chosen by django-tenants' middleware), websockets through
Channels with the tenant resolved by our own middleware."""

import gc
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

# What is loaded now (Django, the apps, their modules: some 190,000 objects) lives as long
# as the process. Frozen, the collector stops walking it on every full collection: an
# idle server's full collection took 118 ms, and daphne with 500 sockets each showed
# 150-270 ms pauses of its event loop under load (bench/realtime.py), every socket's
# delivery waiting behind them.
#
# And full collections come less often. Under load, messages waiting in a tick's buffer
# and in sockets' write buffers live long enough to reach the oldest generation, which
# then filled by a quarter every 1.5 s: a 150 ms full collection each time, finding
# nothing to free (gc callbacks in daphne at 1,000 sockets x 200 events/s). A young
# collection now waits for 10,000 new objects (not 700), a full one for 100 of those.
# Not under the test runner, whose one process outlives many apps and tests.
from django.conf import settings  # noqa: E402

if not settings.TESTING:
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 100)

# Under daphne, websocket frames are sent when written, not on the loop's next turn
# (saas/daphne_writes.py). Only daphne serves through Twisted's transports: under
# another server this changes nothing.
# A text sent to many sockets is framed once (autobahn's prepared messages).
from saas.daphne_writes import install as daphne_writes_install  # noqa: E402
from saas.daphne_writes import install_shared_frames  # noqa: E402

daphne_writes_install()
install_shared_frames()
