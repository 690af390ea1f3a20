from django.urls import path

from helpdesk.consumers import DeskConsumer, PortalConsumer

websocket_urlpatterns = [
    path("ws/desk/", DeskConsumer.as_asgi()),
    path("ws/portal/", PortalConsumer.as_asgi()),
]
