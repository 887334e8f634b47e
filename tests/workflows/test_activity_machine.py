"""The activity workflow as a model: random events, attendance and uploads by random roles never leave
the graph, and archiving waits for its prerequisites.

No HTTP here, but the real services on a real database (SQLite and PostgreSQL): hypothesis drives
events; a small reference model says what must happen; the database must agree at every step.
"""

from __future__ import annotations

import io
import itertools
import uuid
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from statemachine import StateMachine

from storage.runtime import Runtime
from tests.fixtures.activities import SEMESTER, teacher_ids
from tests.fixtures.files import pdf_bytes
from workflows import audit
from workflows.access import viewer_for
from workflows.accounts.models import User
from workflows.activities import attendance, events, materials, notice, service
from workflows.activities.machine import ACTIVITY_WORKFLOW, ActivityMachine
from workflows.activities.models import Activity
from workflows.activities.schemas import ActivityCreate, AttendanceEntry
from workflows.activities.vocabulary import MaterialCategory
from workflows.clock import BEIJING
from workflows.errors import DomainError

EVENTS = list(ACTIVITY_WORKFLOW.rules)
WHO = {"lead": "lead-a", "host": "pillar-a", "member": "kg-a1", "officer": "officer", "stranger": "lead-b"}
GRAPH: dict[str, dict[str, str]] = {
    s.value: {e: t.target.value for t in s.transitions for e in str(t.event).split() if e in EVENTS}
    for s in ActivityMachine.states
}


def test_declared_graph_matches_design():
    assert GRAPH == {
        "planned": {"announce": "announced", "cancel": "cancelled"},
        "announced": {"hold": "held", "cancel": "cancelled"},
        "held": {"archive": "archived"},
        "archived": {},
        "cancelled": {},
    }
    assert issubclass(ActivityMachine, StateMachine)  # raises on illegal events, unlike StateChart


class ActivityWorkflowModel(RuleBasedStateMachine):
    runtime: Runtime
    world: object

    def __init__(self) -> None:
        super().__init__()
        self.state = "planned"
        self.accepted = 0
        self.attendance_done = False
        self.sign_in_done = False

    @initialize()
    def plan(self) -> None:
        start = datetime.now(BEIJING).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=1)
        presenter = uuid.UUID(teacher_ids(self.runtime, "A-PIL-T1")[0])
        with self.runtime.db.session() as s:
            lead = viewer_for(s, s.get(User, self._user("lead")))
            body = ActivityCreate(
                alliance_id=self.world.alliances["A"].id,  # type: ignore[attr-defined]
                semester=SEMESTER,
                topic="模型测试活动",
                domain="科学",
                format="公开课",
                starts_at=start,
                place="模型园",
                host_kindergarten_id=self.world.kindergartens["A-PIL"].id,  # type: ignore[attr-defined]
                presenter_teacher_ids=[presenter],
            )
            self.activity_id = service.create(session=s, viewer=lead, body=body).id
            # Yesterday's activity is announced after the fact, with the section's leave (提前通报).
            officer = viewer_for(s, s.get(User, self.world.users["officer"].id))  # type: ignore[attr-defined]
            notice.allow_late_notice(
                session=s, viewer=officer, activity_id=self.activity_id, reason="事后补录", version=1,
                today=datetime.now(BEIJING).date(),
            )  # fmt: skip

    def _user(self, who: str) -> uuid.UUID:
        return self.world.users[WHO[who]].id  # type: ignore[attr-defined]

    def _attempt(self, who: str, action) -> str:  # type: ignore[no-untyped-def]
        with self.runtime.db.sessionmaker() as s:
            viewer = viewer_for(s, s.get(User, self._user(who)))
            try:
                action(s, viewer)
                s.commit()
                return "ok"
            except DomainError as exc:
                s.rollback()
                return exc.code

    @rule(event=st.sampled_from(EVENTS), who=st.sampled_from(list(WHO)), stale=st.booleans())
    def fire(self, event: str, who: str, stale: bool) -> None:
        with self.runtime.db.session() as s:
            version = s.get(Activity, self.activity_id).version - (1 if stale else 0)
        outcome = self._attempt(
            who,
            lambda s, v: events.fire_event(
                session=s, viewer=v, activity_id=self.activity_id, event=event, version=version, comment="模型测试"
            ),
        )
        legal = event in GRAPH[self.state]
        if who == "stranger":
            assert outcome == "not_found", (event, outcome)
        elif who != "lead":
            assert outcome == "forbidden", (event, who, outcome)
        elif stale:
            assert outcome == "stale_version", (event, outcome)
        elif not legal:
            assert outcome == "transition_not_allowed", (event, self.state, outcome)
        elif event == "archive" and not (self.attendance_done and self.sign_in_done):
            assert outcome == "validation_failed", (event, outcome)
        else:
            assert outcome == "ok", (event, self.state, outcome)
            self.state = GRAPH[self.state][event]
            self.accepted += 1

    @rule(who=st.sampled_from(list(WHO)))
    def record_attendance(self, who: str) -> None:
        def act(s, v):  # type: ignore[no-untyped-def]
            activity = s.get(Activity, self.activity_id)
            entries = [AttendanceEntry(teacher_id=p.teacher_id, attendance="present") for p in activity.participants]
            attendance.record_attendance(session=s, viewer=v, activity_id=self.activity_id, entries=entries)

        outcome = self._attempt(who, act)
        if who == "stranger":
            assert outcome == "not_found"
        elif who not in ("lead", "host"):
            assert outcome == "forbidden"
        elif self.state not in ("announced", "held"):
            assert outcome == "transition_not_allowed", (self.state, outcome)
        else:
            assert outcome == "ok"
            self.attendance_done = True

    @rule(who=st.sampled_from(list(WHO)))
    def upload_sign_in(self, who: str) -> None:
        outcome = self._attempt(
            who,
            lambda s, v: materials.add_material(
                session=s,
                viewer=v,
                objects=self.runtime.objects,
                settings=self.runtime.settings,
                activity_id=self.activity_id,
                category=MaterialCategory.SIGN_IN,
                stream=io.BytesIO(pdf_bytes()),
                filename="签到表.pdf",
            ),  # fmt: skip
        )
        if who == "stranger":
            assert outcome == "not_found"
        elif who not in ("lead", "host"):
            assert outcome == "forbidden"
        elif self.state not in ("planned", "announced", "held"):
            assert outcome == "transition_not_allowed", (self.state, outcome)
        else:
            assert outcome == "ok"
            self.sign_in_done = True

    @invariant()
    def database_agrees(self) -> None:
        if not hasattr(self, "activity_id"):
            return
        with self.runtime.db.session() as s:
            activity = s.get(Activity, self.activity_id)
            assert activity.state == self.state
            moves = [
                e
                for e in audit.history(s, entity_type="activity", entity_id=self.activity_id)
                if e.event in ACTIVITY_WORKFLOW.rules
            ]
            assert len(moves) == self.accepted
            for before, after in itertools.pairwise(moves):
                assert before.to_state == after.from_state
            assert audit.verify_chain(s).ok


@pytest.mark.slow
def test_random_event_sequences_stay_in_the_graph(runtime, world, semester):
    ActivityWorkflowModel.runtime = runtime
    ActivityWorkflowModel.world = world
    run_state_machine_as_test(
        ActivityWorkflowModel,
        settings=settings(
            max_examples=20, stateful_step_count=15, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
