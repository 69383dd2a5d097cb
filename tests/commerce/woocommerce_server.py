"""A WooCommerce shop's REST API on 127.0.0.1, as far as the reconciliation pull uses it:
`GET /wp-json/wc/v3/orders` with HTTP basic auth, `modified_after` + `dates_are_gmt`,
`orderby=modified`, `order`, `per_page`, `page`, and the X-WP-Total / X-WP-TotalPages headers."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from servers import QuietHandler, http_on_loopback

KEY = "ck_0123456789abcdef0123456789abcdef01234567"
SECRET = "cs_0123456789abcdef0123456789abcdef01234567"


@dataclass
class Shop:
    url: str = ""
    orders: list[dict[str, Any]] = field(default_factory=list)
    failures: dict[int, int] = field(default_factory=dict)  # page → status to answer (once)
    raw_pages: dict[int, bytes] = field(default_factory=dict)  # page → body to answer instead (once)
    requests: list[dict[str, str]] = field(default_factory=list)  # the query of each request


@contextmanager
def woocommerce_shop() -> Iterator[Shop]:
    shop = Shop()
    expected = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()

    class Handler(QuietHandler):
        def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {name: values[0] for name, values in parse_qs(parts.query).items()}
            shop.requests.append(query)
            if parts.path != "/wp-json/wc/v3/orders":
                self._answer(404, b'{"code":"rest_no_route","message":"No route was found","data":{"status":404}}')
                return
            if self.headers.get("Authorization") != expected:
                self._answer(401, b'{"code":"woocommerce_rest_cannot_view","message":"Sorry, you cannot list '
                                  b'resources.","data":{"status":401}}')
                return
            page, per_page = int(query.get("page", "1")), int(query.get("per_page", "10"))
            if page in shop.failures:
                self._answer(shop.failures.pop(page), b'{"code":"internal_server_error","message":"Er ging iets mis"}')
                return
            if page in shop.raw_pages:
                self._answer(200, shop.raw_pages.pop(page))
                return
            since = query.get("modified_after", "")
            assert query.get("dates_are_gmt") == "true"
            found = [order for order in shop.orders if order["date_modified_gmt"] > since]
            found.sort(key=lambda order: (order["date_modified_gmt"], order["id"]), reverse=query.get("order") != "asc")
            pages = max(1, -(-len(found) // per_page))
            chosen = found[(page - 1) * per_page: page * per_page]
            self._answer(200, json.dumps(chosen).encode(), {"X-WP-Total": str(len(found)),
                                                            "X-WP-TotalPages": str(pages)})

    with http_on_loopback(Handler) as url:
        shop.url = url
        yield shop
