"""The widget's public side: the script and stylesheet a shop embeds, the visitor's socket
(`/widget/ws`), and file upload and download for visitors.

The socket speaks JSON frames (docs/widget.md): the browser says `hello` (its visitor token,
if it has one, and the shop's signed customer token, if the page has one); Balie answers
`welcome` with the token to keep and the conversation so far. Then `message` (with the
browser's `client_id`, acknowledged by `ack`; the same `client_id` again is acknowledged
again, never stored twice), `typing` and `seen` go in; `message`, `seen` and `typing` come
out. Proactive invitations add `page`, `idle` and `invitation` in and `invite` out
(channels/chat/invitations.py). Errors are `{"type": "error", "error": code, "detail": text}` and keep the socket open,
except a refused origin or shop, which closes it (4403 / 4404).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Query, Request, UploadFile, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from balie.channels.chat import invitations, service
from balie.channels.chat.hub import Hub
from balie.channels.chat.models import ChatVisitor
from balie.conversations.ingest import InboundFile
from balie.errors import BalieError, Invalid, NotFound
from balie.events import Event, publish_on_commit
from balie.web.context import Context
from balie.web.deps import Ctx

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent / "static"
HELLO_SECONDS = 10.0
MAX_FRAME_CHARS = 32_000
# Per visitor and per address, per minute: enough for a fast typist, not for a flood.
VISITOR_MESSAGES_PER_MINUTE = 30
IP_MESSAGES_PER_MINUTE = 120
IP_CONNECTIONS_PER_MINUTE = 60
# The upload's request may be larger than the install's body limit: a 10 MB file and the form.
LARGER_BODIES = {"/widget/files": service.MAX_FILE_BYTES + 64 * 1024}


@router.get("/widget.js")
def widget_script() -> Response:
    return FileResponse(STATIC / "widget.js", media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"})


@router.get("/widget.css")
def widget_style() -> Response:
    return FileResponse(STATIC / "widget.css", media_type="text/css",
                        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"})


def file_signature(secret: str, visitor_key: str, file_id: int) -> str:
    """Files are fetched by <img src>, which cannot send the visitor token: the link is signed."""
    return hmac.new(secret.encode(), f"{visitor_key}:{file_id}".encode(), hashlib.sha256).hexdigest()[:32]


def message_json(message: service.PublicMessage, secret: str, visitor_key: str) -> dict[str, Any]:
    body = message.to_json()
    for file in body["files"]:  # type: ignore[attr-defined]
        signature = file_signature(secret, visitor_key, file["id"])
        file["url"] = f"/widget/files/{file['id']}?v={visitor_key}&s={signature}"
    return body


class Socket:
    """One visitor's open widget."""

    def __init__(self, websocket: WebSocket, context: Context, hub: Hub, shop_id: int, secret: str) -> None:
        self.websocket = websocket
        self.context = context
        self.hub = hub
        self.shop_id = shop_id
        self.secret = secret
        self.visitor_id = 0
        self.visitor_key = ""
        self.customer_id: int | None = None
        self.sent: set[int] = set()  # message ids this socket already showed
        self.inflight: set[str] = set()  # client ids being stored: answered by `ack`, not echoed
        self.address = websocket.client.host if websocket.client else "unknown"
        self.lock = asyncio.Lock()  # one frame on the wire at a time
        # The hub hands each event to its own task; this FIFO lock keeps this socket's events in
        # the order they happened (two quick agent replies must not swap) without making other
        # sockets wait.
        self.in_order = asyncio.Lock()

    async def send(self, frame: dict[str, Any]) -> None:
        async with self.lock:
            await self.websocket.send_text(json.dumps(frame, separators=(",", ":")))

    async def error(self, code: str, detail: str) -> None:
        await self.send({"type": "error", "error": code, "detail": detail})

    def follow(self, customer_id: int | None) -> None:
        if customer_id is None or customer_id == self.customer_id:
            return
        if self.customer_id is not None:
            self.hub.leave(self.shop_id, self.customer_id, self.on_event)
        self.customer_id = customer_id
        self.hub.join(self.shop_id, customer_id, self.on_event)

    def close(self) -> None:
        if self.customer_id is not None:
            self.hub.leave(self.shop_id, self.customer_id, self.on_event)

    def message_json(self, message: service.PublicMessage) -> dict[str, Any]:
        return message_json(message, self.secret, self.visitor_key)

    async def on_event(self, item: Event) -> None:
        async with self.in_order:
            await self._take(item)

    async def _take(self, item: Event) -> None:
        if item.type == "chat.typing":
            if item.data.get("from") == "agent":
                await self.send({"type": "typing", "author": item.data.get("author")})
            return
        if item.type == "chat.seen":
            await self.send({"type": "seen", "message_id": item.data.get("message_id")})
            return
        message_id = item.data.get("message_id")
        if not isinstance(message_id, int) or message_id in self.sent:
            return
        if item.type == "message.created" and (item.data.get("channel") != service.CHANNEL or self.inflight):
            # A visitor's message: shown here only for their other tabs. The socket that sent it
            # answers with `ack`, so it need not read the message back (one trip less per message).
            return
        message = await run_in_threadpool(self._load, message_id)
        if message is not None and message.id not in self.sent and message.client_id not in self.inflight:
            self.sent.add(message.id)
            await self.send({"type": "message", "message": self.message_json(message)})

    def _load(self, message_id: int) -> service.PublicMessage | None:
        with self.context.factory() as db:
            visitor = db.get(ChatVisitor, self.visitor_id)
            return service.message_for(db, visitor, message_id) if visitor else None


@router.websocket("/widget/ws")
async def widget_socket(websocket: WebSocket, shop: Annotated[str, Query(max_length=64)] = "") -> None:
    context: Context = websocket.app.state.context
    hub: Hub = websocket.app.state.chat_hub
    origin = websocket.headers.get("origin")
    found = await run_in_threadpool(_shop_for_socket, context, shop, origin)
    if isinstance(found, int):
        await websocket.close(code=found)
        return
    shop_id, secret = found
    address = websocket.client.host if websocket.client else "unknown"
    if context.limiter.hit(f"chat:connect:{address}", 60) > IP_CONNECTIONS_PER_MINUTE:
        await websocket.close(code=4429)
        return
    await websocket.accept()
    socket = Socket(websocket, context, hub, shop_id, secret)
    try:
        await _converse(socket)
    except WebSocketDisconnect:
        pass
    finally:
        socket.close()


def _shop_for_socket(context: Context, public_key: str, origin: str | None) -> tuple[int, str] | int:
    with context.factory() as db:
        shop = service.shop_by_key(db, public_key)
        if shop is None:
            return 4404
        widget = service.settings_for(db, shop.id)
        db.commit()
        if not widget.enabled or not service.origin_allowed(widget, origin):
            return 4403
        return shop.id, widget.secret


async def _converse(socket: Socket) -> None:
    websocket = socket.websocket
    try:
        raw = await asyncio.wait_for(websocket.receive_text(), timeout=HELLO_SECONDS)
    except TimeoutError:
        await websocket.close(code=4408)
        return
    hello = _frame(raw)
    if hello is None or hello.get("type") != "hello":
        await socket.error("hello_expected", "the first frame must be {\"type\": \"hello\", ...}")
        await websocket.close(code=4400)
        return
    try:
        welcome = await run_in_threadpool(_hello, socket, hello)
    except BalieError as problem:
        await socket.error(problem.code, problem.detail)
        await websocket.close(code=4400)
        return
    await socket.send(welcome)
    while True:
        raw = await websocket.receive_text()
        frame = _frame(raw)
        if frame is None:
            await socket.error("malformed_frame", f"frames are JSON objects of at most {MAX_FRAME_CHARS} characters")
            continue
        kind = frame.get("type")
        try:
            if kind == "message":
                await _message(socket, frame)
            elif kind == "typing":
                await run_in_threadpool(_typing, socket)
            elif kind == "seen":
                await run_in_threadpool(_seen, socket, frame.get("message_id"))
            elif kind == "ping":
                await socket.send({"type": "pong"})
            elif kind == "page":
                await invitations.page(socket, frame)
            elif kind == "idle":
                await invitations.idle(socket)
            elif kind == "invitation":
                await invitations.answer(socket, frame)
            else:
                await socket.error("unknown_frame",
                                   "frames are hello, message, typing, seen, ping, page, idle or invitation")
        except BalieError as problem:
            await socket.error(problem.code, problem.detail)


def _frame(raw: str) -> dict[str, Any] | None:
    if len(raw) > MAX_FRAME_CHARS:
        return None
    try:
        frame = json.loads(raw)
    except ValueError:
        return None
    return frame if isinstance(frame, dict) else None


def _claim(raw: Any) -> service.CustomerClaim | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise Invalid("customer must be an object {id, email, expires, signature}", code="invalid_customer_token")
    values = {key: raw.get(key) for key in ("id", "email", "expires", "signature")}
    if not isinstance(values["expires"], int) or not isinstance(values["signature"], str):
        raise Invalid("customer token needs expires (Unix seconds) and signature", code="invalid_customer_token")
    customer_id, email = values["id"] or "", values["email"] or ""
    if not isinstance(customer_id, str) or not isinstance(email, str) or len(customer_id) > 320 or len(email) > 320:
        raise Invalid("customer id and email must be short strings", code="invalid_customer_token")
    return service.CustomerClaim(customer_id=customer_id, email=email, expires=values["expires"],
                                 signature=values["signature"][:128])


def _hello(socket: Socket, hello: dict[str, Any]) -> dict[str, Any]:
    language = hello.get("language") if isinstance(hello.get("language"), str) else "nl"
    token = hello.get("token") if isinstance(hello.get("token"), str) else None
    problem = None
    with socket.context.factory() as db:
        widget = service.settings_for(db, socket.shop_id)
        try:
            claim = _claim(hello.get("customer"))
            if claim is not None:
                service.check_claim(widget, claim)
        except BalieError as error:  # a forged or stale claim: chat on, as an anonymous visitor
            claim, problem = None, {"error": error.code, "detail": error.detail}
        visitor = service.find_visitor(db, socket.shop_id, token)
        # A browser that chatted as a known customer and no longer carries that customer's
        # token (logged out, or someone else logged in) starts over: no history leaks.
        if visitor is not None and visitor.verified and (claim is None or not service.vouched(db, visitor, claim)):
            visitor = None
        if visitor is None:
            token, visitor = service.start_visitor(db, socket.shop_id, str(language))
        else:
            service.resume(db, visitor, new_visit=bool(hello.get("new_visit")), language=str(language))
        if claim is not None and not visitor.verified:
            service.link_customer(db, visitor, claim)
        messages = service.history(db, visitor)
        db.commit()
        socket.visitor_id, socket.visitor_key = visitor.id, visitor.key
        socket.follow(visitor.customer_id)
        socket.sent.update(message.id for message in messages)
        welcome: dict[str, Any] = {
            "type": "welcome", "token": token, "visitor": visitor.key, "verified": visitor.verified,
            "messages": [socket.message_json(message) for message in messages],
            "seen": visitor.seen_message_id, "agent_seen": visitor.agent_seen_message_id,
        }
        if problem:
            welcome["customer_problem"] = problem
        return welcome


async def _message(socket: Socket, frame: dict[str, Any]) -> None:
    client_id, text = frame.get("client_id"), frame.get("text")
    if not isinstance(client_id, str) or not isinstance(text, str):
        raise Invalid("a message needs client_id and text (strings)", code="invalid_message")
    limiter = socket.context.limiter
    if (limiter.hit(f"chat:visitor:{socket.visitor_id}", 60) > VISITOR_MESSAGES_PER_MINUTE
            or limiter.hit(f"chat:ip:{socket.address}", 60) > IP_MESSAGES_PER_MINUTE):
        raise Invalid("too many messages; wait a minute", code="rate_limited", status=429)
    socket.inflight.add(client_id)
    try:
        message, customer_id = await run_in_threadpool(_store, socket.context, socket.visitor_id, text, client_id, [])
    finally:
        socket.inflight.discard(client_id)
    socket.follow(customer_id)
    socket.sent.add(message.id)
    await socket.send({"type": "ack", "client_id": client_id, "message": socket.message_json(message)})
    if frame.get("invitation") is not None:  # the first answer to an accepted chat invitation
        await run_in_threadpool(invitations.answered_in_chat, socket, frame["invitation"])


def _store(context: Context, visitor_id: int, text: str, client_id: str,
           files: list[InboundFile]) -> tuple[service.PublicMessage, int | None]:
    """Stores a visitor's message (once per client_id); the message and the visitor's customer."""
    window = dt.timedelta(days=context.settings.reopen_window_days)
    with context.factory() as db:
        def work() -> int:
            visitor = db.get_one(ChatVisitor, visitor_id)
            return service.visitor_message(db, context.store, visitor, text=text, client_id=client_id,
                                           files=files, reopen_window=window).message_id
        message_id = context.commit_retrying(db, work)
        visitor = db.get_one(ChatVisitor, visitor_id)
        message = service.message_for(db, visitor, message_id)
        assert message is not None
        return message, visitor.customer_id


def _typing(socket: Socket) -> None:
    with socket.context.factory() as db, db.begin():
        visitor = db.get_one(ChatVisitor, socket.visitor_id)
        if visitor.conversation_id is not None and visitor.customer_id is not None:
            publish_on_commit(db, Event("chat.typing", socket.shop_id, {
                "conversation_id": visitor.conversation_id, "customer_id": visitor.customer_id, "from": "visitor"}))


def _seen(socket: Socket, message_id: Any) -> None:
    if not isinstance(message_id, int) or message_id < 1:
        raise Invalid("seen needs a message_id", code="invalid_seen")
    with socket.context.factory() as db, db.begin():
        service.mark_seen(db, db.get_one(ChatVisitor, socket.visitor_id), message_id)


# --- files -------------------------------------------------------------------------------


@router.post("/widget/files")
async def upload(
    request: Request,
    context: Ctx,
    shop: Annotated[str, Query(max_length=64)],
    client_id: Annotated[str, Form(max_length=service.MAX_CLIENT_ID)],
    file: Annotated[UploadFile, File()],
    text: Annotated[str, Form(max_length=service.MAX_TEXT)] = "",
    x_balie_visitor: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """A picture or PDF from the visitor (multipart: file, client_id, optional text)."""
    data = await file.read(service.MAX_FILE_BYTES + 1)
    inbound = InboundFile(filename=(file.filename or "file")[:200], content_type=file.content_type or "", data=data)
    service.check_file(inbound)
    origin = request.headers.get("origin")
    found = await run_in_threadpool(_visitor_for_upload, context, shop, origin, x_balie_visitor)
    message, _ = await run_in_threadpool(_store, context, found.id, text, client_id, [inbound])
    headers = {"Access-Control-Allow-Origin": origin} if origin else None
    body = {"type": "ack", "client_id": client_id, "message": message_json(message, found.secret, found.key)}
    return JSONResponse(body, status_code=201, headers=headers)


@dataclass(frozen=True)
class _Found:
    id: int
    key: str
    secret: str


def _visitor_for_upload(context: Context, public_key: str, origin: str | None, token: str | None) -> _Found:
    with context.factory() as db:
        shop = service.shop_by_key(db, public_key)
        if shop is None:
            raise NotFound("no shop with this key")
        widget = service.settings_for(db, shop.id)
        if not widget.enabled or not service.origin_allowed(widget, origin):
            raise BalieError("this site may not use the shop's widget", code="origin_refused", status=403)
        visitor = service.find_visitor(db, shop.id, token)
        if visitor is None:
            raise BalieError("unknown visitor token; open the chat again", code="unknown_visitor", status=401)
        if context.limiter.hit(f"chat:visitor:{visitor.id}", 60) > VISITOR_MESSAGES_PER_MINUTE:
            raise BalieError("too many messages; wait a minute", code="rate_limited", status=429)
        db.commit()
        return _Found(visitor.id, visitor.key, widget.secret)


@router.get("/widget/files/{file_id}")
def download(file_id: int, context: Ctx, v: Annotated[str, Query(max_length=40)] = "",
             s: Annotated[str, Query(max_length=64)] = "") -> Response:
    with context.factory() as db:
        visitor = service.visitor_by_key(db, v)
        if visitor is None:
            raise NotFound("file not found")
        widget = service.settings_for(db, visitor.shop_id)
        if not hmac.compare_digest(file_signature(widget.secret, visitor.key, file_id), s):
            raise NotFound("file not found")
        attachment = service.file_for(db, visitor, file_id)
        if attachment is None:
            raise NotFound("file not found")
        data = context.store.open(attachment.path)
    disposition = "inline" if attachment.content_type.startswith("image/") else "attachment"
    return Response(data, media_type=attachment.content_type, headers={
        "Content-Disposition": f'{disposition}; filename="file-{attachment.id}"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600",
        "Content-Security-Policy": "default-src 'none'; sandbox"})


def install(app: Any) -> None:
    """Routes, and the hub that routes the event bus to this process's sockets."""
    from balie.channels.chat.demo_page import router as demo_router
    from balie.channels.chat.public_api import router as public_router

    app.include_router(router)
    app.include_router(public_router)
    app.include_router(demo_router)
    app.state.chat_hub = Hub(app.state.context.bus)


@contextlib.asynccontextmanager
async def running(app: Any) -> Any:
    hub: Hub = app.state.chat_hub
    await hub.start()
    try:
        yield
    finally:
        await hub.stop()
