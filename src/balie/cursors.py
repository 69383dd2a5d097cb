"""Cursors for paged lists: the sort key (a time, or none) and the last row's id, as an
opaque URL-safe string. One codec for every list the API pages through."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Literal, overload

from balie.errors import Invalid
from balie.inputs import valid_id


def encode(key: dt.datetime | None, row_id: int) -> str:
    raw = json.dumps([key.isoformat() if key else None, row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@overload
def decode(cursor: str) -> tuple[dt.datetime, int]: ...
@overload
def decode(cursor: str, *, nullable: Literal[True]) -> tuple[dt.datetime | None, int]: ...
def decode(cursor: str, *, nullable: bool = False) -> tuple[dt.datetime | None, int]:
    """Raises Invalid (400 `invalid_cursor`) for anything `encode` did not make."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key, row_id = json.loads(raw)
        if not isinstance(row_id, int) or isinstance(row_id, bool) or not valid_id(row_id):
            raise ValueError
        if key is None and nullable:
            return None, row_id
        when = dt.datetime.fromisoformat(key)
        if when.tzinfo is None:
            raise ValueError
        return when, row_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise Invalid("cursor is not one this API gave out", code="invalid_cursor") from None
