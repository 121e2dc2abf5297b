"""Sending to a channel-layer group from sync code: one way for every caller.

Sync code usually sends through ``async_to_sync``. On a thread that already
runs an event loop (a sync view called from async code, or a test thread
where Playwright's sync API keeps its loop), ``async_to_sync`` refuses; the
send is then scheduled on that loop, which runs it as soon as it gets control
back. The task is kept referenced until it is done (asyncio holds tasks
weakly).
"""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

_pending: set[asyncio.Task[None]] = set()


def send_to_group(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        async_to_sync(layer.group_send)(group, message)
        return
    task = loop.create_task(layer.group_send(group, message))
    _pending.add(task)
    task.add_done_callback(_pending.discard)
