"""/api/v1/conversations/{id}/follow-ups: schedule, list and cancel follow-ups."""

from __future__ import annotations

from fastapi import APIRouter, Response

from balie.follow_ups import service
from balie.follow_ups.schemas import FollowUpIn, FollowUpList, FollowUpOut
from balie.follow_ups.service import FollowUp
from balie.web.deps import DB, ApiActor

router = APIRouter(prefix="/api/v1", tags=["follow-ups"])


def _out(follow_up: FollowUp) -> FollowUpOut:
    return FollowUpOut(
        id=follow_up.id, conversation_id=follow_up.conversation_id, due_at=follow_up.due_at, note=follow_up.note,
        state=follow_up.state,  # type: ignore[arg-type]
        agent_id=follow_up.agent_id, created_at=follow_up.created_at, done_at=follow_up.done_at,
    )


@router.post("/conversations/{conversation_id}/follow-ups", status_code=201, response_model=FollowUpOut)
def create_follow_up(conversation_id: int, body: FollowUpIn, db: DB, actor: ApiActor,
                     response: Response) -> FollowUpOut:
    """At `due_at` the conversation reopens, goes back to you and shows the note. The same
    request again answers 200 with the same follow-up."""
    follow_up, created = service.schedule(db, actor, conversation_id, due_at=body.due_at, note=body.note)
    db.commit()
    if not created:
        response.status_code = 200
    return _out(follow_up)


@router.get("/conversations/{conversation_id}/follow-ups", response_model=FollowUpList)
def list_follow_ups(conversation_id: int, db: DB, actor: ApiActor) -> FollowUpList:
    """Every follow-up of the conversation, in every state, earliest due first."""
    return FollowUpList(items=[_out(item) for item in service.list_for(db, actor, conversation_id)])


@router.delete("/conversations/{conversation_id}/follow-ups/{follow_up_id}", status_code=204)
def cancel_follow_up(conversation_id: int, follow_up_id: int, db: DB, actor: ApiActor) -> Response:
    service.cancel(db, actor, conversation_id, follow_up_id)
    db.commit()
    return Response(status_code=204)
