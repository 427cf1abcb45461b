"""A route class that refuses an oversize request body while it arrives."""

from __future__ import annotations

from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope, Send

from service.settings import ServiceSettings, get_settings
from service.storage import FORM_ALLOWANCE, too_large


class UploadRoute(APIRoute):
    """A route whose request body may not exceed the upload limit (plus the form's other fields).

    Checked as the body arrives, by its Content-Length at once or else by counting, so an oversize
    upload is refused before it is spooled whole to a temporary file (which happens before the
    endpoint runs).
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().handle(scope, receive, send)
            return
        upload_limit = _settings(scope).max_upload_bytes
        limit = upload_limit + FORM_ALLOWANCE
        refusal = too_large(upload_limit)
        answer = JSONResponse({"detail": refusal.message, "code": refusal.code}, status_code=413)
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > limit:
            await answer(scope, receive, send)
            return
        received, exceeded = 0, False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                exceeded = True
                raise refusal
            return message

        async def guarded_send(message: Message) -> None:
            if not exceeded:  # the app's own answer to the aborted body is replaced by the 413
                await send(message)

        try:
            await super().handle(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded:
            await answer(scope, receive, send)


def _settings(scope: Scope) -> ServiceSettings:
    """The app's settings (``create_app``), or else the process's, read per request."""
    pinned: ServiceSettings | None = getattr(scope["app"].state, "settings", None)
    return pinned if pinned is not None else get_settings()
