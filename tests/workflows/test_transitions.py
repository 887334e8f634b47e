"""The shared event path: every area registered once, hooks attached only to real events, typed values."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

import workflows.activities.events
import workflows.library.recommendations
import workflows.withdrawals.service  # noqa: F401 - registers the area
from workflows import transitions
from workflows.access import viewer_for
from workflows.accounts.models import User
from workflows.agreements import events as agreement_events
from workflows.applications import events as application_events
from workflows.errors import FieldError, ValidationFailed
from workflows.evaluations import events as evaluation_events
from workflows.machine import Ctx, Hooks, chain
from workflows.mentors import events as mentor_events
from workflows.outbox import OutboxMessage
from workflows.publishing import events as news_events
from workflows.withdrawals import service
from workflows.withdrawals.machine import WITHDRAWAL_WORKFLOW
from workflows.withdrawals.models import Withdrawal


@dataclass
class _Record:
    id: uuid.UUID
    state: str = "draft"
    version: int = 1


def _ctx(event: str = "submit") -> Ctx[_Record]:
    return Ctx(session=None, viewer=None, record=_Record(uuid.uuid4()), event=event, version=1)  # type: ignore[arg-type]


def test_every_area_is_registered_under_its_entity_type() -> None:
    assert set(transitions.AREAS) >= {
        "application", "agreement", "activity", "evaluation", "news_report", "library_recommendation",
        "withdrawal", "mentor_nomination", "mentor",
    }  # fmt: skip
    assert transitions.area_of("application") is application_events.APPLICATIONS
    assert transitions.area_of("mentor") is mentor_events.MENTORS
    assert transitions.area_of("mentor_nomination") is mentor_events.NOMINATIONS


def test_registering_a_second_area_for_an_entity_type_is_refused() -> None:
    other = transitions.Area(workflow=news_events.NEWS.workflow, load=news_events.NEWS.load)
    with pytest.raises(ValueError, match="already registered"):
        transitions.register(other)
    assert transitions.register(news_events.NEWS) is news_events.NEWS  # the same one again is fine


def test_hooks_attach_to_the_named_rules_and_keep_roles_and_labels() -> None:
    rules = application_events.APPLICATIONS.workflow.rules
    base = application_events.APPLICATION_WORKFLOW.rules
    assert rules["approve"].validate is not None and rules["approve"].then is not None
    assert rules["withdraw"].validate is None and rules["withdraw"].then is None
    assert base["approve"].then is None  # the declared workflow is left as it was
    for name, rule in rules.items():
        assert (rule.roles, rule.label, rule.comment_required) == (
            base[name].roles, base[name].label, base[name].comment_required,
        )  # fmt: skip
    assert agreement_events.AGREEMENTS.workflow.rules["decline"].prepare is not None
    assert set(evaluation_events.EVALUATIONS.workflow.rules) == set(evaluation_events.EVALUATION_WORKFLOW.rules)


def test_hooks_for_an_event_without_a_rule_are_refused() -> None:
    with pytest.raises(ValueError, match="approv"):
        application_events.APPLICATION_WORKFLOW.with_hooks({"approv": Hooks[Any]()})


def test_kept_values_come_back_only_as_the_kind_they_are() -> None:
    ctx = _ctx()
    assert ctx.value("alliance", str) is None
    ctx.keep("alliance", "东城联盟")
    assert ctx.value("alliance", str) == "东城联盟"
    with pytest.raises(TypeError):
        ctx.value("alliance", int)


def test_moved_from_before_the_move_is_a_programming_error() -> None:
    with pytest.raises(RuntimeError, match="once the record has moved"):
        _ = _ctx().moved_from


def test_a_hook_needing_services_the_caller_did_not_pass_says_so() -> None:
    with pytest.raises(RuntimeError, match="object store"):
        _ctx().need_objects()
    with pytest.raises(RuntimeError, match="settings"):
        _ctx().need_settings()
    with pytest.raises(TypeError, match="ReportEventBody"):
        _ctx().body_as(news_events.ReportEventBody)


def test_chain_runs_each_step_in_order_and_after_commit_queues_outbox_rows() -> None:
    seen: list[str] = []

    def first(ctx: Ctx[_Record]) -> None:
        seen.append("first")
        ctx.after_commit("thing.rendered", thing_id=str(ctx.record.id))

    def second(ctx: Ctx[_Record]) -> None:
        seen.append("second")

    ctx = _ctx()
    chain(first, second)(ctx)
    assert seen == ["first", "second"]
    assert ctx.outbox == [("thing.rendered", {"thing_id": str(ctx.record.id)})]


def _cancel_area(then: Any = None, validate: Any = None) -> transitions.Area[Any]:
    """The withdrawal workflow with test hooks on ``cancel`` (not registered: the real area stays)."""

    hooks = Hooks[Any](validate=validate, then=then, after=("withdrawal.cancel_seen",))
    return transitions.Area(workflow=WITHDRAWAL_WORKFLOW.with_hooks({"cancel": hooks}), load=service.WITHDRAWALS.load)


def _requested(client: Any, login: Any) -> uuid.UUID:
    r = client.post("/api/withdrawals", headers=login("kg-a1"), json={"reason": "本园将停办。"})
    assert r.status_code == 201, r.text
    return uuid.UUID(r.json()["id"])


def test_outbox_rows_asked_for_by_the_rule_and_by_a_hook_are_written_with_the_move(client, login, runtime, world):

    withdrawal_id = _requested(client, login)

    def then(ctx: Ctx[Any]) -> None:
        ctx.after_commit("withdrawal.render", withdrawal_id=str(ctx.record.id), moved=ctx.moved_to)

    with runtime.db.sessionmaker() as s:
        viewer = viewer_for(s, s.get(User, world.users["kg-a1"].id))
        before = set(s.scalars(select(OutboxMessage.id)))
        record = transitions.fire_event(_cancel_area(then), session=s, viewer=viewer, id=withdrawal_id,
                                        event="cancel", version=1)  # fmt: skip
        assert record.state == "cancelled"
        rows = [(m.topic, m.payload) for m in s.scalars(select(OutboxMessage)) if m.id not in before]
        assert rows == [
            ("withdrawal.cancel_seen", {"withdrawal_id": str(withdrawal_id)}),
            ("withdrawal.render", {"withdrawal_id": str(withdrawal_id), "moved": "cancelled"}),
        ]
        s.rollback()


def test_a_validator_refusal_moves_nothing_and_runs_no_consequence(client, login, runtime, world):

    withdrawal_id = _requested(client, login)
    ran: list[str] = []
    area = _cancel_area(then=lambda ctx: ran.append("then"), validate=lambda ctx: [FieldError("x", "bad", "不行")])
    with runtime.db.sessionmaker() as s:
        viewer = viewer_for(s, s.get(User, world.users["kg-a1"].id))
        with pytest.raises(ValidationFailed):
            transitions.fire_event(area, session=s, viewer=viewer, id=withdrawal_id, event="cancel", version=1)
        s.rollback()
        assert s.get(Withdrawal, withdrawal_id).state == "requested"
    assert ran == []
