"""Shopify's mandatory privacy topics, acted on (docs/shopify.md says what each one does).

- `customers/data_request`: audited, and an inbox conversation for the customer lists what
  Balie holds about them, for the shop's agents to send on.
- `customers/redact`: what Balie has from Shopify about the customer goes: their orders keep
  their numbers and amounts (the shop's books) but lose the link to the person, and the
  Shopify customer id goes. A customer Balie knows only from Shopify (no conversation, no
  call-back, no chat identity, no order from elsewhere) is emptied: every identity and the name.
  Someone who also contacted the shop themselves keeps the e-mail address and phone number
  they wrote from: that is the shop's own record, erased through the shop, not Shopify.
- `shop/redact`: the Shopify connection is removed at once; then, in the worker, every order,
  parcel and scan that came from Shopify goes and customers known only from those orders are
  emptied as above.

The audit entries count what happened; they never copy the personal data itself."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from balie import clock
from balie.audit import service as audit_service
from balie.callbacks.models import Callback
from balie.commerce import connections
from balie.commerce.models import Order, Shipment, TrackingEvent
from balie.commerce.shopify import payloads, texts
from balie.conversations.ingest import InboundMessage, ingest
from balie.conversations.models import Conversation
from balie.customers import service as customer_service
from balie.customers.models import Customer, Identity
from balie.customers.service import IdentityRef
from balie.scheduling import service as scheduling
from balie.scheduling.models import DueJob
from balie.shops.models import Shop

SOURCE = "shopify"
SHOWN_ORDERS = 20  # in the data request's overview; the rest are counted
CHUNK = 1000  # customers per statement when emptying many
# Identities that only a platform's order gives; any other kind means the customer came to the shop.
ORDER_KINDS = ("email", "phone", "external")


def _refs(customer: dict[str, Any]) -> list[IdentityRef]:
    refs = []
    if customer.get("id") is not None:
        refs.append(IdentityRef("external", payloads.identifier(customer["id"], "customer.id")))
    for kind in ("email", "phone"):
        value = payloads.contact(kind, customer.get(kind), f"customer.{kind}")
        if value is not None:
            refs.append(customer_service.normalise(kind, value))
    return refs


def _customer(payload: dict[str, Any]) -> dict[str, Any]:
    customer = payloads.object_at(payload, "customer")
    if not any(customer.get(key) not in (None, "") for key in ("id", "email", "phone")):
        raise payloads.invalid("customer", "required, with an id, email or phone")
    return customer


def _order_ids(payload: dict[str, Any], field: str) -> list[str]:
    return [payloads.identifier(value, f"{field}[{index}]")
            for index, value in enumerate(payloads.list_at(payload, field))][:10_000]


def customers_of(session: Session, shop_id: int, refs: list[IdentityRef], order_ids: list[str]) -> list[int]:
    """The Balie customers a request names: by any identity, or as the customer of its orders."""
    found: set[int] = set()
    for ref in refs:
        customer = customer_service.lookup(session, shop_id=shop_id, refs=[ref])
        if customer is not None:
            found.add(customer.id)
    if order_ids:
        found.update(session.scalars(select(Order.customer_id).where(
            Order.shop_id == shop_id, Order.source == SOURCE, Order.external_id.in_(order_ids),
            Order.customer_id.is_not(None))))
    resolved = {customer_service.get(session, shop_id=shop_id, customer_id=customer_id).id for customer_id in found}
    return sorted(resolved)


# --- customers/data_request ------------------------------------------------------------


def data_request(session: Session, shop_id: int, payload: dict[str, Any]) -> None:
    customer = _customer(payload)
    request = payloads.object_at(payload, "data_request").get("id")
    request_id = payloads.identifier(request, "data_request.id") if request is not None else "?"
    customer_ids = customers_of(session, shop_id, _refs(customer), _order_ids(payload, "orders_requested"))
    conversation_ids = [conversation_id for customer_id in customer_ids
                        if (conversation_id := _announce(session, shop_id, customer_id, request_id)) is not None]
    audit_service.record(session, shop_id=shop_id, actor_agent_id=None, action="shopify.data_requested",
                         object_type="shop", object_id=shop_id,
                         data={"request": request_id, "customers": customer_ids, "conversations": conversation_ids})
    session.flush()


def _announce(session: Session, shop_id: int, customer_id: int, request_id: str) -> int | None:
    """A conversation for the customer that lists what Balie holds, in the shop's language."""
    code = texts.language(session.scalar(select(Shop.language).where(Shop.id == shop_id)))
    customer = customer_service.get(session, shop_id=shop_id, customer_id=customer_id)
    identities = customer_service.identities(session, shop_id=shop_id, customer_id=customer_id)
    if not identities:  # nothing to find them by, nothing personal to list
        return None
    lines = [texts.text(code, "intro", request=request_id), "", texts.text(code, "held")]
    if customer.name:
        lines.append(texts.text(code, "name", name=customer.name))
    lines += [texts.text(code, "identity", kind=texts.text(code, identity.kind), value=identity.value)
              for identity in identities]
    order_count = session.scalar(select(func.count()).where(Order.shop_id == shop_id,
                                                            Order.customer_id == customer_id)) or 0
    lines.append(texts.text(code, "orders", count=order_count))
    shown = session.scalars(select(Order).where(Order.shop_id == shop_id, Order.customer_id == customer_id)
                            .order_by(Order.placed_at.desc(), Order.id.desc()).limit(SHOWN_ORDERS))
    lines += [texts.text(code, "order", number=order.number, date=texts.day(code, order.placed_at),
                         total=order.total, currency=order.currency, status=order.status) for order in shown]
    if order_count > SHOWN_ORDERS:
        lines.append(texts.text(code, "more_orders", count=order_count - SHOWN_ORDERS))
    lines.append(texts.text(code, "conversations", count=_count(session, Conversation, shop_id, customer_id)))
    lines.append(texts.text(code, "callbacks", count=_count(session, Callback, shop_id, customer_id)))
    # One of the customer's own identities, so ingest finds them and adds nothing; a new
    # conversation (explicit threading without references), on the form channel: nothing is
    # sent to the customer automatically.
    result = ingest(session, InboundMessage(
        shop_id=shop_id, channel="form", identities=[IdentityRef(identities[0].kind, identities[0].value)],
        subject=texts.text(code, "subject"), text="\n".join(lines), explicit_threading=True,
        external_id=f"shopify-data-request:{request_id}:{customer_id}"))
    return result.conversation_id


def _count(session: Session, model: type[Conversation] | type[Callback], shop_id: int, customer_id: int) -> int:
    return session.scalar(select(func.count()).select_from(model).where(
        model.shop_id == shop_id, model.customer_id == customer_id)) or 0


# --- customers/redact ------------------------------------------------------------------


def redact_customer(session: Session, shop_id: int, payload: dict[str, Any]) -> None:
    customer = _customer(payload)
    refs = _refs(customer)
    order_ids = _order_ids(payload, "orders_to_redact")
    customer_ids = customers_of(session, shop_id, refs, order_ids)
    detached = 0
    if customer_ids:
        detached += _detach(session, Order.customer_id.in_(customer_ids), shop_id)
    if order_ids:
        detached += _detach(session, Order.external_id.in_(order_ids), shop_id)
    shopify_ids = [ref.value for ref in refs if ref.kind == "external"]
    erased = erase_only_shopify(session, shop_id, customer_ids)
    for customer_id in customer_ids:
        emptied = erased.get(customer_id, [])
        removed = emptied or (_remove_identities(session, shop_id, customer_id, Identity.kind == "external",
                                                 Identity.value.in_(shopify_ids)) if shopify_ids else [])
        audit_service.record(session, shop_id=shop_id, actor_agent_id=None, action="shopify.customer_redacted",
                             object_type="customer", object_id=customer_id,
                             data={"orders_detached": detached, "identities_removed": removed,
                                   "emptied": bool(emptied)})
    if not customer_ids:
        audit_service.record(session, shop_id=shop_id, actor_agent_id=None, action="shopify.customer_redacted",
                             object_type="shop", object_id=shop_id,
                             data={"orders_detached": detached, "customers": 0})
    session.flush()


def _detach(session: Session, condition: Any, shop_id: int) -> int:
    result = session.execute(update(Order).where(Order.shop_id == shop_id, Order.source == SOURCE, condition,
                                                 Order.customer_id.is_not(None)).values(customer_id=None),
                             execution_options={"synchronize_session": False})
    return int(result.rowcount)  # type: ignore[attr-defined]


def _empty(session: Session, customer_id: int) -> bool:
    return not session.scalar(select(exists().where(Identity.customer_id == customer_id)))


def erase_only_shopify(session: Session, shop_id: int, customer_ids: list[int]) -> dict[int, list[str]]:
    """Empties the customers Balie knows only from Shopify's orders: every identity, and the
    name (the row stays, nameless, so what refers to it still resolves). Those emptied, with
    the kinds of identity removed; a customer who also came to the shop another way is left
    alone. A few statements per thousand customers: a shop's redaction touches them all."""
    emptied: dict[int, list[str]] = {}
    for start in range(0, len(customer_ids), CHUNK):
        chunk = customer_ids[start:start + CHUNK]
        only = list(session.scalars(select(Customer.id).where(
            Customer.shop_id == shop_id, Customer.id.in_(chunk),
            ~exists().where(Conversation.shop_id == shop_id, Conversation.customer_id == Customer.id),
            ~exists().where(Callback.shop_id == shop_id, Callback.customer_id == Customer.id),
            # Any order left: one from elsewhere, or one Shopify sent after the shop reconnected
            # (a customer's own Shopify orders are detached or deleted before this runs).
            ~exists().where(Order.shop_id == shop_id, Order.customer_id == Customer.id),
            ~exists().where(Identity.shop_id == shop_id, Identity.customer_id == Customer.id,
                            Identity.kind.not_in(ORDER_KINDS)))))
        if not only:
            continue
        removed = session.execute(delete(Identity).where(Identity.shop_id == shop_id, Identity.customer_id.in_(only))
                                  .returning(Identity.customer_id, Identity.kind)).all()
        session.execute(update(Customer).where(Customer.shop_id == shop_id, Customer.id.in_(only)).values(name=""),
                        execution_options={"synchronize_session": False})
        for customer_id in only:
            emptied[customer_id] = sorted(row.kind for row in removed if row.customer_id == customer_id)
    return emptied


def _remove_identities(session: Session, shop_id: int, customer_id: int, *conditions: Any) -> list[str]:
    kinds = list(session.scalars(delete(Identity).where(
        Identity.shop_id == shop_id, Identity.customer_id == customer_id, *conditions).returning(Identity.kind)))
    return sorted(kinds)


# --- shop/redact -----------------------------------------------------------------------


KIND = "shopify.shop_redact"


def redact_shop(session: Session, shop_id: int, _payload: dict[str, Any]) -> None:
    """The connection goes at once (later deliveries are refused); the erasing is a due job
    (KIND), because Shopify wants its answer within 5 seconds and a shop's history may hold a
    million orders. The job erases what Shopify had given by the time of this request."""
    requested = clock.now()
    connections.remove(session, shop_id, SOURCE, actor_agent_id=None)
    scheduling.schedule(session, shop_id=shop_id, kind=KIND, ref_id=shop_id, due_at=requested,
                        payload={"requested_at": requested.isoformat()})
    audit_service.record(session, shop_id=shop_id, actor_agent_id=None, action="shopify.shop_redact_requested",
                         object_type="shop", object_id=shop_id, data={})
    session.flush()


def fire_shop_redaction(session: Session, job: DueJob) -> None:
    """Every order, parcel and scan Shopify gave until the request goes; customers known only
    from them are emptied. Running it again finds nothing more to erase."""
    shop_id = job.shop_id
    requested = dt.datetime.fromisoformat(str((job.payload or {})["requested_at"]))
    given = (Order.shop_id == shop_id, Order.source == SOURCE, Order.created_at <= requested)
    customer_ids = [customer_id for customer_id in session.scalars(select(Order.customer_id).distinct().where(
        *given, Order.customer_id.is_not(None))) if customer_id is not None]
    shopify_shipments = select(Shipment.id).where(Shipment.shop_id == shop_id, Shipment.source == SOURCE,
                                                  Shipment.created_at <= requested)
    events = session.execute(delete(TrackingEvent).where(
        TrackingEvent.shop_id == shop_id,
        or_(and_(TrackingEvent.source == SOURCE, TrackingEvent.created_at <= requested),
            TrackingEvent.shipment_id.in_(shopify_shipments))))
    parcels = session.execute(delete(Shipment).where(Shipment.shop_id == shop_id, Shipment.source == SOURCE,
                                                     Shipment.created_at <= requested))
    orders = session.execute(delete(Order).where(*given))
    emptied = len(erase_only_shopify(session, shop_id, customer_ids))
    audit_service.record(session, shop_id=shop_id, actor_agent_id=None, action="shopify.shop_redacted",
                         object_type="shop", object_id=shop_id,
                         data={"orders": orders.rowcount, "shipments": parcels.rowcount,  # type: ignore[attr-defined]
                               "tracking_events": events.rowcount,  # type: ignore[attr-defined]
                               "customers_emptied": emptied})
    session.flush()
