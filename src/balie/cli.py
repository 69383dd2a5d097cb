"""The `balie` command: serve, worker, migrate, demo, shop add, agent add, token create,
commerce reconcile, import orders."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import secrets
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from sqlalchemy import inspect
from sqlalchemy.orm import Session, sessionmaker

from balie import config, events, migrate
from balie.agents import service as agent_service
from balie.db import make_engine, make_sessionmaker, transaction
from balie.errors import BalieError
from balie.shops import service as shop_service


def _factory(settings: config.Settings) -> sessionmaker[Session]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return make_sessionmaker(make_engine(settings.database_url))


def _require_schema(settings: config.Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        if not inspect(engine).has_table("alembic_version"):
            raise SystemExit("The database has no Balie schema yet: run `balie migrate` first.")
    finally:
        engine.dispose()


def cmd_migrate(args: argparse.Namespace, settings: config.Settings) -> int:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine)
    engine.dispose()
    print(f"Database is up to date ({engine.url.render_as_string(hide_password=True)}).")
    return 0


def cmd_serve(args: argparse.Namespace, settings: config.Settings) -> int:
    import uvicorn

    from balie import demo
    from balie.app import create_app

    _require_schema(settings)
    if args.workers < 1:
        raise SystemExit("--workers must be at least 1")
    if args.workers > 1 and settings.database_url.startswith("sqlite"):
        raise SystemExit("--workers above 1 needs PostgreSQL (BALIE_DATABASE_URL): SQLite has one writer.")
    if args.workers > 1 and not settings.redis_url:
        raise SystemExit("--workers above 1 needs BALIE_REDIS_URL, so that live updates reach the agents "
                         "connected to every process.")
    with transaction(_factory(settings)) as session:
        login = demo.login_hint(session)
    print(f"Balie is running at http://{args.host}:{args.port}/  (API docs: /docs)", flush=True)
    if login:
        print(f"Demo login: {login[0]}  password: {login[1]}", flush=True)
    options = {"host": args.host, "port": args.port, "log_level": args.log_level, "server_header": False,
               # Behind a reverse proxy on this machine, trust its X-Forwarded-For / -Proto, so
               # cookies get Secure and the login limit counts per real client.
               "proxy_headers": args.proxy_headers, "forwarded_allow_ips": "127.0.0.1"}
    if args.workers == 1:
        uvicorn.run(create_app(settings, run_worker=not args.no_worker, run_smtp=True), **options)
    else:
        # Each process builds its own app from the environment; background work runs in
        # every process unless --no-worker (claims in the database keep that safe), and
        # every process receives mail on the shared SMTP port (SO_REUSEPORT).
        os.environ["BALIE_EMBEDDED_WORKER"] = "0" if args.no_worker else "1"
        uvicorn.run("balie.app:app_from_environment", factory=True, workers=args.workers,
                    **options)
    return 0


def cmd_worker(args: argparse.Namespace, settings: config.Settings) -> int:
    from balie.app import register_channels
    from balie.ratelimit import make_limiter
    from balie.storage import FileStore
    from balie.worker import Worker

    _require_schema(settings)
    bus = events.make_bus(settings.redis_url, settings.redis_prefix)
    engine = make_engine(settings.database_url)
    factory = make_sessionmaker(engine, events.session_info(bus))
    register_channels(settings, factory)
    worker = Worker(factory, bus, max_attempts=settings.dispatch_max_attempts, settings=settings,
                    store=FileStore(settings.data_dir), limiter=make_limiter(settings.redis_url, settings.redis_prefix))

    def stop(_signum: int, _frame: FrameType | None) -> None:
        worker.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("Balie worker started.", flush=True)
    if args.once:
        worker.run_once()
        return 0
    worker.run_forever()
    return 0


def cmd_demo(args: argparse.Namespace, settings: config.Settings) -> int:
    from balie import demo

    _require_schema(settings)
    with transaction(_factory(settings)) as session:
        if args.if_empty and shop_service.count(session) > 0:
            login = demo.login_hint(session)
            print("The database already has shops; no demo seeded.")
        else:
            login = demo.seed(session)
            print("Seeded the demo shop \"Demo Webwinkel\".")
    if login:
        print(f"Demo login: {login[0]}  password: {login[1]}")
    return 0


def cmd_shop_add(args: argparse.Namespace, settings: config.Settings) -> int:
    _require_schema(settings)
    with transaction(_factory(settings)) as session:
        shop = shop_service.create(session, name=args.name)
        print(f"{shop.id} {shop.public_key}")
    return 0


def cmd_agent_add(args: argparse.Namespace, settings: config.Settings) -> int:
    _require_schema(settings)
    generated = None
    password = args.password
    if password is None:
        generated = password = secrets.token_urlsafe(12)
    with transaction(_factory(settings)) as session:
        shop = shop_service.find(session, args.shop)
        agent = agent_service.by_email(session, args.email)
        if agent is None:
            agent = agent_service.create(session, email=args.email, name=args.name or "", password=password)
        else:
            generated = None  # an existing agent keeps their password
        agent_service.add_to_shop(session, agent=agent, shop=shop, role="admin" if args.admin else "agent")
        print(f"{agent.id} {agent.email} {'admin' if args.admin else 'agent'} in shop {shop.id}")
        if generated:
            print(f"password: {generated}")
    return 0


def cmd_token_create(args: argparse.Namespace, settings: config.Settings) -> int:
    _require_schema(settings)
    with transaction(_factory(settings)) as session:
        shop = shop_service.find(session, args.shop)
        agent = agent_service.by_email(session, args.agent)
        if agent is None:
            raise BalieError(f"no agent {args.agent}", code="not_found", status=404)
        token = agent_service.create_token(session, agent=agent, shop=shop, name=args.name or "cli")
    print(token)
    return 0


def cmd_commerce_reconcile(args: argparse.Namespace, settings: config.Settings) -> int:
    from balie.commerce.woocommerce import pull

    _require_schema(settings)
    since = None
    if args.since:
        try:
            since = dt.datetime.fromisoformat(args.since)
        except ValueError:
            raise SystemExit(f"--since: {args.since!r} is not an ISO 8601 time (2026-11-20T00:00:00+01:00)") from None
        if since.tzinfo is None:
            raise SystemExit("--since: give a time zone (2026-11-20T00:00:00+01:00 or ...Z)")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # Through the bus, so agents connected to a server sharing BALIE_REDIS_URL see the orders arrive.
    factory = make_sessionmaker(make_engine(settings.database_url),
                                events.session_info(events.make_bus(settings.redis_url, settings.redis_prefix)))
    with transaction(factory) as session:
        shop_id = shop_service.find(session, args.shop).id
    try:
        report = pull.reconcile(factory, shop_id, since=since, allow_private=settings.webhook_allow_private,
                                timeout=settings.webhook_timeout_seconds)
    except pull.PullError as error:
        print(f"balie: WooCommerce pull for shop {shop_id} failed: {error}", file=sys.stderr)
        return 2
    print(report.summary())
    for refusal in report.refused:
        print(f"refused {refusal}")
    return 0


def cmd_smtp(args: argparse.Namespace, settings: config.Settings) -> int:
    """The SMTP receiver alone, until SIGTERM or Ctrl+C."""
    import threading

    from balie.app import mail_receiver
    from balie.web.context import build

    _require_schema(settings)
    if not settings.smtp_listen.strip():
        raise SystemExit("BALIE_SMTP_LISTEN is empty: there is no address to listen on.")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with mail_receiver(build(settings)) as smtp:
        if smtp is None:
            return 1
        print(f"Balie SMTP receiver on {settings.smtp_listen}.", flush=True)
        stop.wait()
    return 0


def cmd_mailbox_add(args: argparse.Namespace, settings: config.Settings) -> int:
    from balie.channels.email import service as mailbox_service

    _require_schema(settings)
    with transaction(_factory(settings)) as session:
        shop = shop_service.find(session, args.shop)
        mailbox = mailbox_service.create(session, shop_id=shop.id, address=args.address,
                                         display_name=args.name or shop.name, imap_url=args.imap)
        print(f"{mailbox.id} {mailbox.address} shop {shop.id}" + (" imap" if mailbox.polls_imap else ""))
    return 0


def cmd_import_orders(args: argparse.Namespace, settings: config.Settings) -> int:
    from balie.commerce import csv_cli

    _require_schema(settings)
    engine = make_engine(settings.database_url)
    try:
        bus = events.make_bus(settings.redis_url, settings.redis_prefix)
        return csv_cli.run(args, make_sessionmaker(engine, events.session_info(bus)))
    finally:
        engine.dispose()


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="balie", description="Balie customer service for web shops.")
    sub = root.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the agent UI and the API (and run the worker)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-worker", action="store_true", help="leave background work to `balie worker`")
    serve.add_argument("--workers", type=int, default=1,
                       help="web processes (uses every core; above 1 needs BALIE_REDIS_URL)")
    serve.add_argument("--proxy-headers", action="store_true",
                       help="trust X-Forwarded-For/-Proto from a reverse proxy on 127.0.0.1")
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(handler=cmd_serve)

    worker = sub.add_parser("worker", help="run background work only (outbox, timers)")
    worker.add_argument("--once", action="store_true", help="one pass, then exit")
    worker.set_defaults(handler=cmd_worker)

    sub.add_parser("migrate", help="create or upgrade the database schema").set_defaults(handler=cmd_migrate)

    demo = sub.add_parser("demo", help='seed the demo shop "Demo Webwinkel"')
    demo.add_argument("--if-empty", action="store_true", help="only when the database has no shop yet")
    demo.set_defaults(handler=cmd_demo)

    shop = sub.add_parser("shop", help="manage shops").add_subparsers(dest="action", required=True)
    shop_add = shop.add_parser("add", help="add a shop; prints its id and public key")
    shop_add.add_argument("name")
    shop_add.set_defaults(handler=cmd_shop_add)

    agent = sub.add_parser("agent", help="manage agents").add_subparsers(dest="action", required=True)
    agent_add = agent.add_parser("add", help="add an agent to a shop")
    agent_add.add_argument("email")
    agent_add.add_argument("--shop", required=True, help="shop id, public key or name")
    agent_add.add_argument("--admin", action="store_true")
    agent_add.add_argument("--name")
    agent_add.add_argument("--password", help="default: a generated one, printed once")
    agent_add.set_defaults(handler=cmd_agent_add)

    sub.add_parser("smtp", help="run the SMTP receiver alone (balie serve also runs it)").set_defaults(
        handler=cmd_smtp)

    mailbox = sub.add_parser("mailbox", help="manage support e-mail addresses").add_subparsers(
        dest="action", required=True)
    mailbox_add = mailbox.add_parser("add", help="register a support address for a shop")
    mailbox_add.add_argument("address")
    mailbox_add.add_argument("--shop", required=True, help="shop id, public key or name")
    mailbox_add.add_argument("--imap", help="poll an existing mailbox: imaps://user:password@host:993/INBOX")
    mailbox_add.add_argument("--name", help="display name on outgoing mail (default: the shop's name)")
    mailbox_add.set_defaults(handler=cmd_mailbox_add)

    commerce = sub.add_parser("commerce", help="orders from the shop's platform").add_subparsers(
        dest="action", required=True)
    reconcile = commerce.add_parser("reconcile", help="pull the orders a WooCommerce shop modified recently")
    reconcile.add_argument("--shop", required=True, help="shop id, public key or name")
    reconcile.add_argument("--since", help="ISO 8601 time with a zone; default: where the last pull got to")
    reconcile.set_defaults(handler=cmd_commerce_reconcile)

    token = sub.add_parser("token", help="manage API tokens").add_subparsers(dest="action", required=True)
    token_create = token.add_parser("create", help="print a new API token (and nothing else)")
    token_create.add_argument("--shop", required=True, help="shop id, public key or name")
    token_create.add_argument("--agent", required=True, help="the agent's e-mail address")
    token_create.add_argument("--name")
    token_create.set_defaults(handler=cmd_token_create)

    importer = sub.add_parser("import", help="import data from a file").add_subparsers(dest="what", required=True)
    import_orders = importer.add_parser("orders", help="import orders from a CSV file (one row per order line)")
    import_orders.add_argument("file", metavar="FILE.csv")
    import_orders.add_argument("--shop", required=True, help="shop id, public key or name")
    import_orders.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    import_orders.add_argument("--skip-invalid", action="store_true",
                               help="import the valid orders even when some rows are rejected")
    import_orders.add_argument("--report", metavar="FILE", help="also write the rejected rows to this CSV file")
    import_orders.set_defaults(handler=cmd_import_orders)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every connection at INFO
    args = parser().parse_args(argv)
    settings = config.load()
    try:
        code: int = args.handler(args, settings)
    except BalieError as error:
        print(f"balie: {error.detail}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
