"""The agent desk's websocket. For now it proves tenant context: it answers a hello
frame with the tenant and the user the connection belongs to."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from realtime.groups import group_name

# Close codes in the 4000 range are ours to define (RFC 6455, 7.4.2).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class DeskConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not user.is_staff:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.schema_name: str = self.scope["schema_name"]
        self.desk_group = group_name(schema_name=self.schema_name, audience="desk")
        await self.channel_layer.group_add(self.desk_group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "desk_group"):
            await self.channel_layer.group_discard(self.desk_group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        # A malformed frame gets an error frame; the connection stays open.
        try:
            await super().receive(text_data=text_data, bytes_data=bytes_data, **kwargs)
        except ValueError:
            await self.send_json({"type": "error", "error": "malformed_frame"})

    async def receive_json(self, content: Any, **kwargs) -> None:
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self.send_json({"type": "error", "error": "malformed_frame"})
            return
        if content["type"] == "hello":
            user = self.scope["user"]
            await self.send_json(
                {
                    "type": "hello",
                    "version": 1,
                    "tenant": self.schema_name,
                    "user": {"id": user.pk, "email": user.email, "name": str(user)},
                }
            )
            return
        await self.send_json({"type": "error", "error": "unknown_type"})

    async def desk_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])
