"""What the inbox list shows: the views (mine, unassigned, ...), filters from the URL, and
the rows, shaped for the templates.

The URL is the state: `/inbox?view=mine&channel=email&sort=waiting` means the same list
on the inbox, beside an open conversation, and in the partial the live updates fetch.
A filter the URL spells wrong is dropped rather than answered with an error page.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from balie import clock
from balie.agents.service import Actor
from balie.conversations import service as conversation_service
from balie.conversations.models import CHANNELS
from balie.conversations.service import Filters
from balie.sla import service as sla_service
from balie.ui import i18n
from balie.ui.i18n import Language
from balie.ui.routing import N_

# view → (status, assignee, label); the order is the order of the tabs.
VIEWS: dict[str, tuple[str, str | None, str]] = {
    "mine": ("open", "me", N_("Mine")),
    "unassigned": ("open", "none", N_("Unassigned")),
    "open": ("open", None, N_("All open")),
    "pending": ("pending", None, N_("Pending")),
    "snoozed": ("snoozed", None, N_("Snoozed")),
    "resolved": ("resolved", None, N_("Resolved")),
}
DEFAULT_VIEW = "open"
# Work queues are worked oldest-waiting first; finished work is looked up by recency.
WAITING_FIRST = ("mine", "unassigned", "open")
CHANNEL_LABELS = {
    "api": N_("API"), "email": N_("E-mail"), "chat": N_("Chat"), "phone": N_("Phone"),
    "form": N_("Web form"), "social": N_("Social"), "whatsapp": N_("WhatsApp"),
}
# Markers on messages (balie.channels.email.inbound, compliments/service.py, sla/acknowledging.py).
FLAG_LABELS = {
    "auto_reply": N_("Auto-reply"), "bounce": N_("Delivery report"), "held": N_("Held: too many mails"),
    "unparsable": N_("Unreadable"), "truncated": N_("Shortened"),
    "compliment": N_("Compliment"), "acknowledgement": N_("Automatic acknowledgement"),
}
# The inbox's compliments filter: the tag compliments/service.py puts on praise and thanks.
COMPLIMENT_TAG = "compliment"
SORT_LABELS = {"waiting": N_("Longest waiting"), "recent": N_("Most recent"), "sla": N_("SLA")}
# The SLA badge of a row (met and "no promise" show none), and what its title says.
SLA_LABELS = {"on_track": N_("On track"), "due_soon": N_("Due soon"), "breached": N_("Breached"),
              "paused": N_("SLA paused")}
# The marker on a row whose customer is blocked or muted (customers/blocking.py).
BLOCK_LABELS = {"blocked": N_("Blocked"), "muted": N_("Muted")}
PRIORITY_LABELS = {"low": N_("Low"), "normal": N_("Normal"), "high": N_("High"), "urgent": N_("Urgent")}
STATUS_LABELS = {
    "open": N_("Open"), "pending": N_("Pending"), "snoozed": N_("Snoozed"),
    "resolved": N_("Resolved"), "closed": N_("Closed"),
}


@dataclass(frozen=True)
class ListQuery:
    view: str = DEFAULT_VIEW
    channel: str | None = None
    tag: str | None = None
    search: str | None = None
    sort: str | None = None
    cursor: str | None = None

    @classmethod
    def from_params(cls, params: QueryParams) -> ListQuery:
        view = params.get("view") or DEFAULT_VIEW
        channel = params.get("channel") or None
        sort = params.get("sort") or None
        tag = (params.get("tag") or "").strip()[:64] or None
        search = (params.get("q") or "").strip()[:200] or None
        return cls(
            view=view if view in VIEWS else DEFAULT_VIEW,
            channel=channel if channel in CHANNELS else None,
            tag=tag,
            search=search,
            sort=sort if sort in SORT_LABELS else None,
            cursor=(params.get("cursor") or None),
        )

    @property
    def effective_sort(self) -> str:
        if self.sort:
            return self.sort
        return "waiting" if self.view in WAITING_FIRST and not self.search else "recent"

    def filters(self) -> Filters:
        status, assignee, _ = VIEWS[self.view]
        if self.search:
            # Searching means looking for something, wherever it is: every status, anyone's.
            status, assignee = "all", None
        return Filters(status=status, assignee=assignee, channel=self.channel, tag=self.tag,
                       query=self.search, sort=self.effective_sort, cursor=self.cursor)

    def params(self, **changes: Any) -> dict[str, str]:
        """The query parameters that reproduce this list (without the page cursor)."""
        query = replace(self, **{"cursor": None, **changes})
        values = {"view": query.view if query.view != DEFAULT_VIEW else None, "channel": query.channel,
                  "tag": query.tag, "q": query.search, "sort": query.sort, "cursor": query.cursor}
        return {key: value for key, value in values.items() if value}

    def query_string(self, **changes: Any) -> str:
        encoded = urlencode(self.params(**changes))
        return f"?{encoded}" if encoded else ""


@dataclass(frozen=True, slots=True)
class Row:
    """One conversation in the list, as the template shows it: an object, not a dict (Jinja2
    looks `row.x` up as an attribute first), with its texts made here rather than by filter
    calls in the template, which cost several times more a row."""

    id: int
    url: str
    customer_name: str
    customer_block: str  # "blocked", "muted"; "" for no marker
    subject: str
    preview: str
    channel: str
    status: str
    priority: str
    tags: list[tuple[str, str]]  # (tag, link to the list of that tag)
    assignee: str
    mine: bool
    waiting: bool  # the time is how long the customer waits, not the last activity
    time_iso: str
    time_title: str
    time_text: str
    sla: str  # on_track, due_soon, breached, paused; "" for no badge
    sla_title: str


@functools.lru_cache(maxsize=4096)
def tag_url(tag: str) -> str:
    return "/inbox?" + urlencode({"tag": tag})


def rows(session: Session, actor: Actor, query: ListQuery, language: Language) -> tuple[list[Row], str | None]:
    page = conversation_service.list_conversations(session, actor, query.filters())
    suffix = query.query_string()
    now = clock.now()
    due_text, paused_text = language.gettext("SLA due %(when)s"), language.gettext("The SLA clock is stopped")
    shaped = []
    for item in page.items:
        conversation = item.conversation
        waiting_since = conversation.waiting_since
        shown = waiting_since or conversation.last_activity_at
        sla = sla_service.state_of(conversation, now) or ""
        if sla == "met":
            sla = ""
        sla_due = conversation.sla_due_at
        sla_title = (due_text.replace("%(when)s", i18n.full_moment(language, sla_due)) if sla_due
                     else paused_text if sla == "paused" else "")
        shaped.append(Row(
            id=conversation.id,
            url=f"/inbox/c/{conversation.id}{suffix}",
            customer_name=item.customer_name,
            customer_block=item.customer_block_state,
            subject=conversation.subject,
            preview=conversation.preview,
            channel=conversation.channel,
            status=conversation.status,
            priority=conversation.priority,
            tags=[(tag, tag_url(tag)) for tag in conversation.tag_list],
            assignee=item.assignee_name or "",
            mine=conversation.assignee_id == actor.agent_id,
            waiting=waiting_since is not None,
            time_iso=shown.isoformat(),
            time_title=i18n.full_moment(language, shown),
            time_text=(i18n.waiting(language, waiting_since, now) if waiting_since
                       else i18n.moment(language, shown, now)),
            sla=sla,
            sla_title=sla_title,
        ))
    return shaped, page.next_cursor


def list_context(session: Session, actor: Actor, query: ListQuery, language: Language) -> dict[str, Any]:
    items, next_cursor = rows(session, actor, query, language)
    more = None
    if next_cursor:
        more = "/inbox" + query.query_string(cursor=next_cursor)
    return {
        "query": query,
        "rows": items,
        "more_url": more,
        "more_partial_url": ("/ui/partials/list" + query.query_string(cursor=next_cursor)) if next_cursor else None,
        "views": VIEWS,
        "channels": CHANNELS,
        "channel_labels": CHANNEL_LABELS,
        "sort_labels": SORT_LABELS,
        "sla_labels": SLA_LABELS,
        "block_labels": BLOCK_LABELS,
        "priority_labels": PRIORITY_LABELS,
        "status_labels": STATUS_LABELS,
        "list_partial_url": "/ui/partials/list" + query.query_string(),
        "list_status": query.filters().status,
        "compliment_tag": COMPLIMENT_TAG,
    }
