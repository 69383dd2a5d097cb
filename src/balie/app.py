"""Builds the ASGI app: API routers, the agent UI, static files, live updates, the worker."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, ExitStack, asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from balie import config
from balie.channels import base as channels
from balie.channels.api.adapter import WebhookAdapter
from balie.channels.chat import widget
from balie.channels.chat.adapter import ChatAdapter
from balie.channels.email.sending import EmailAdapter
from balie.config import Settings
from balie.web import context as web_context
from balie.web import errors
from balie.web.limits import BodyLimit
from balie.worker import Worker

log = logging.getLogger(__name__)


def register_channels(settings: Settings, factory: sessionmaker[Session]) -> None:
    channels.register("api", WebhookAdapter(timeout=settings.webhook_timeout_seconds,
                                            allow_private=settings.webhook_allow_private))
    channels.register("email", EmailAdapter(settings, factory))
    channels.register("chat", ChatAdapter(factory))


def mail_receiver(context: web_context.Context, *, shared_port: bool = False) -> AbstractContextManager[object]:
    from balie.channels.email import receiver

    settings = context.settings
    handler = receiver.Handler(context.factory, context.store, context.limiter, settings, context.ingest_lock)
    return receiver.running(handler, receiver.parse_listen(settings.smtp_listen), max_bytes=settings.mail_max_bytes,
                            shared_port=shared_port)


def app_from_environment() -> FastAPI:
    """The app factory `balie serve --workers N` hands to each uvicorn process: each one also
    receives mail, all on the one SMTP port."""
    return create_app(config.load(), run_worker=os.environ.get("BALIE_EMBEDDED_WORKER", "1") != "0",
                      run_smtp=True, smtp_shared_port=True)


def create_app(settings: Settings | None = None, *, run_worker: bool = True, run_smtp: bool = False,
               smtp_shared_port: bool = False) -> FastAPI:
    """`run_smtp` starts the SMTP receiver on BALIE_SMTP_LISTEN (what `balie serve` does)."""
    settings = settings or config.load()
    context = web_context.build(settings)
    register_channels(settings, context.factory)
    worker = Worker(context.factory, context.bus, max_attempts=settings.dispatch_max_attempts, settings=settings,
                    store=context.store, limiter=context.limiter, ingest_lock=context.ingest_lock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await context.bus.start()
        if run_worker:
            worker.start()
        try:
            with ExitStack() as stack:
                if run_smtp:
                    stack.enter_context(mail_receiver(context, shared_port=smtp_shared_port))
                async with widget.running(_app):
                    yield
        finally:
            if run_worker:
                worker.stop()
            await context.bus.stop()
            context.engine.dispose()

    app = FastAPI(
        title="Balie API",
        version="1",
        summary="Omnichannel customer service for web shops",
        docs_url="/docs",
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.context = context
    app.state.worker = worker
    errors.install(app)

    from balie.automation.api import router as automation_router
    from balie.callbacks.api import router as callbacks_router
    from balie.callbacks.widget_api import router as widget_callbacks_router
    from balie.channels.api.api import router as api_channel_router
    from balie.channels.email.api import router as mailboxes_router
    from balie.commerce.api import router as commerce_router
    from balie.commerce.connections_api import router as commerce_connections_router
    from balie.commerce.promises.api import router as promises_router
    from balie.commerce.shopify.api import router as shopify_router
    from balie.commerce.tracking_webhook_api import router as tracking_webhook_router
    from balie.commerce.woocommerce.api import router as woocommerce_router
    from balie.conversations.api import router as conversations_router
    from balie.conversations.outbound_api import router as outbound_conversations_router
    from balie.customers.api import router as customers_router
    from balie.follow_ups.api import router as follow_ups_router
    from balie.reachability.api import router as reachability_router
    from balie.returns.api import router as returns_router
    from balie.returns.page import router as withdraw_page_router
    from balie.shops.api import router as shops_router
    from balie.sla.api import router as sla_router
    from balie.ui import views
    from balie.ui.callbacks import router as callbacks_ui_router
    from balie.ui.returns import router as returns_ui_router
    from balie.web.stream import router as stream_router

    # The two busiest routes first: a request is matched against the routes in this order.
    app.include_router(api_channel_router)
    app.include_router(tracking_webhook_router)
    app.include_router(automation_router)
    app.include_router(callbacks_router)
    app.include_router(commerce_router)
    app.include_router(commerce_connections_router)
    app.include_router(woocommerce_router)
    app.include_router(shopify_router)
    app.include_router(promises_router)
    app.include_router(widget_callbacks_router)
    app.include_router(callbacks_ui_router)
    app.include_router(returns_ui_router)
    app.include_router(mailboxes_router)
    app.include_router(conversations_router)
    app.include_router(outbound_conversations_router)
    app.include_router(customers_router)
    app.include_router(follow_ups_router)
    app.include_router(reachability_router)
    app.include_router(returns_router)
    app.include_router(withdraw_page_router)
    app.include_router(shops_router)
    app.include_router(sla_router)
    app.include_router(stream_router)
    views.install(app)
    widget.install(app)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes, larger=widget.LARGER_BODIES)
    return app
