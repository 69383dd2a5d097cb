"""A small fake web shop ("Demo Webwinkel", two pages) with the widget embedded, so a person
or a browser test can chat as a customer without a shop of their own: `/demo/shop`."""

from __future__ import annotations

from html import escape
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from balie.channels.chat import service
from balie.errors import NotFound
from balie.shops.models import Shop
from balie.web.deps import Ctx

router = APIRouter(include_in_schema=False)
DEMO_SHOP = "Demo Webwinkel"  # the name `balie demo` seeds (balie.demo, which a channel may not import)
PRODUCTS = [
    ("Regenjas Storm", "Waterdicht, ademend, met capuchon.", "€ 89,95"),
    ("Wandelschoen Heide", "Lichtgewicht, voor lange tochten.", "€ 119,00"),
    ("Thermosfles 0,5 l", "Houdt je koffie zes uur warm.", "€ 24,50"),
]
STYLE = (
    "body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1d2330;background:#fafafa}"
    "header,main{max-width:860px;margin:0 auto;padding:16px}"
    "header{display:flex;justify-content:space-between;align-items:center}"
    "ul.products{list-style:none;padding:0;display:grid;gap:12px;grid-template-columns:repeat(auto-fill,minmax(220px,1fr))}"
    "ul.products li{background:#fff;border:1px solid #e3e7ef;border-radius:10px;padding:12px}"
)


def _public_key(context: Ctx, shop: str) -> str:
    with context.factory() as db:
        if shop:
            found = service.shop_by_key(db, shop)
        else:
            found = db.scalars(select(Shop).where(Shop.name == DEMO_SHOP).order_by(Shop.id)).first()
        if found is None:
            raise NotFound("no shop with this key, and no demo shop (run `balie demo`)")
        return found.public_key


def _page(key: str, title: str, body: str, link: tuple[str, str], query: str, tag: str = "") -> HTMLResponse:
    """`tag`: more of the script tag's attributes (how the page describes itself for invitations)."""
    href, label = link
    html = (
        '<!doctype html><html lang="nl"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} – {escape(DEMO_SHOP)}</title><style>{STYLE}</style></head><body>"
        f'<header><strong>{escape(DEMO_SHOP)}</strong><a href="{escape(href + query)}" data-testid="demo-link">'
        f"{escape(label)}</a></header>"
        f"<main><h1>{escape(title)}</h1>{body}"
        "<p><small>Een nep-winkel om de chat van Balie te proberen: klik op de knop rechtsonder.</small></p></main>"
        f'<script src="/widget.js" data-shop="{escape(key, quote=True)}"{tag} async></script>'
        "</body></html>"
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                                       "Referrer-Policy": "same-origin"})


@router.get("/demo/shop")
def shop_page(context: Ctx, shop: Annotated[str, Query(max_length=64)] = "") -> HTMLResponse:
    key = _public_key(context, shop)
    items = "".join(f"<li><h2>{escape(name)}</h2><p>{escape(text)}</p><p><strong>{escape(price)}</strong></p></li>"
                    for name, text, price in PRODUCTS)
    query = "?" + urlencode({"shop": shop}) if shop else ""
    return _page(key, "Onze producten", f'<ul class="products">{items}</ul>',
                 ("/demo/shop/checkout", "Naar de kassa"), query)


@router.get("/demo/shop/checkout")
def checkout_page(context: Ctx, shop: Annotated[str, Query(max_length=64)] = "") -> HTMLResponse:
    key = _public_key(context, shop)
    body = ("<p>Je winkelwagen: 1 × Regenjas Storm, € 89,95.</p>"
            "<p>Vragen over verzending of betalen? Chat met ons.</p>")
    query = "?" + urlencode({"shop": shop}) if shop else ""
    # A checkout page says so (docs/widget.md, "Page events"): else a checkout rule never invites here.
    return _page(key, "Afrekenen", body, ("/demo/shop", "Verder winkelen"), query,
                 ' data-page="checkout" data-checkout-step="betalen" data-cart-value="89.95"')
