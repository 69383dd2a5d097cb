"""Files customers sent, handed back as downloads: never rendered on our origin."""

from __future__ import annotations

from fastapi import Response

from balie.storage import FileStore


def download(store: FileStore, path: str, *, filename: str, content_type: str) -> Response:
    safe = "".join(c if c.isalnum() or c in "._- " else "_" for c in filename)[:200] or "attachment"
    return Response(
        store.open(path),
        media_type=content_type,
        # An attachment, never shown inline: a customer's HTML file must not run as our page.
        headers={"Content-Disposition": f'attachment; filename="{safe}"',
                 "Content-Security-Policy": "sandbox; default-src 'none'",
                 "X-Content-Type-Options": "nosniff"},
    )
