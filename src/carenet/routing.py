"""WebSocket routes."""
from django.urls import path

from carenet.monitoring.consumers import AlarmFeedConsumer

websocket_urlpatterns = [
    path("ws/alarms/", AlarmFeedConsumer.as_asgi()),
]
