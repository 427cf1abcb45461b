"""Every answer's safety headers, and the request counter /metrics reports.

A plain ASGI middleware rather than ``@app.middleware("http")``: Starlette's BaseHTTPMiddleware passes
every chunk of a request body through task-group streams, which made each 100 MB upload cost the
event loop thousands of extra hops while other people's pages waited (bench/service_load.py).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.routes import health

SAFETY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


class ResponseHeaders:
    """Counts each answer by method and status class, and adds the safety headers it lacks."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = str(scope["method"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                health.REQUESTS[(method, f"{int(message['status']) // 100}xx")] += 1
                headers = MutableHeaders(scope=message)
                for name, value in SAFETY_HEADERS.items():
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
