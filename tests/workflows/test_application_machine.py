"""The application workflow as a model: random events by random roles never leave the graph.

No HTTP here, but the real services on a real database (SQLite and PostgreSQL): hypothesis drives
events; a tiny reference model says what must happen; the database must agree every step.
"""

from __future__ import annotations

import io
import itertools
import uuid

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from statemachine import StateMachine

from storage.objects import ObjectStore
from storage.runtime import Runtime
from tests.fixtures.files import pdf_bytes
from tests.test_support import form_complete
from workflows import audit
from workflows.access import viewer_for
from workflows.accounts.models import User
from workflows.applications import events, service
from workflows.applications.machine import APPLICATION_WORKFLOW, ApplicationMachine
from workflows.applications.models import Application
from workflows.applications.schemas import ApplicationForm, AttachmentKind
from workflows.errors import DomainError
from workflows.registry.credit_code import make_credit_code
from workflows.registry.models import Category, Kindergarten
from workflows.roles import Role

EVENTS = list(APPLICATION_WORKFLOW.rules)
ROLES = ["owner", "stranger", "officer", "lead"]
GRAPH: dict[str, dict[str, str]] = {
    s.value: {e: t.target.value for t in s.transitions for e in str(t.event).split() if e in EVENTS}
    for s in ApplicationMachine.states
}
_serial = itertools.count(1)


def test_declared_graph_matches_design():
    assert GRAPH == {
        "draft": {"submit": "submitted"},
        "submitted": {"withdraw": "withdrawn", "start_review": "under_review"},
        "under_review": {"return": "returned", "approve": "approved", "reject": "rejected"},
        "returned": {"submit": "submitted"},
        "approved": {},
        "rejected": {},
        "withdrawn": {},
    }
    assert issubclass(ApplicationMachine, StateMachine)  # raises on illegal events, unlike StateChart


class ApplicationWorkflowModel(RuleBasedStateMachine):
    runtime: Runtime
    world: object

    def __init__(self) -> None:
        super().__init__()
        self.state = "draft"
        self.accepted = 0

    @initialize()
    def start(self) -> None:
        n = next(_serial)
        with self.runtime.db.session() as s:
            k = Kindergarten(
                code=f"HYP{n:05d}-{uuid.uuid4().hex[:4]}",
                name=f"模型园{uuid.uuid4().hex[:8]}",
                category=Category.PRIVATE,
                town="罗家镇",
                credit_code=make_credit_code(f"52360111M{(n + 5000):08d}"),
            )
            s.add(k)
            s.flush()
            self.owner_kg = k.id
            owner = User(
                username=f"hyp{uuid.uuid4().hex[:10]}",
                display_name="模型园",
                password_hash="x",
                role=Role.APPLICANT,
                kindergarten_id=k.id,
            )
            s.add(owner)
            s.flush()
            self.owner_id = owner.id
            viewer = viewer_for(s, owner)
            app = service.create(session=s, viewer=viewer, form=ApplicationForm(**form_complete(k.credit_code)))
            for kind in (AttachmentKind.LICENCE, AttachmentKind.INSPECTION, AttachmentKind.SAFETY_PLEDGE):
                service.add_attachment(
                    session=s,
                    viewer=viewer,
                    objects=self.objects,
                    settings=self.runtime.settings,
                    application_id=app.id,
                    kind=kind,
                    stream=io.BytesIO(pdf_bytes(kind.value)),
                    filename=f"{kind.value}.pdf",
                )
            self.app_id = app.id
        self.accepted = 0

    @property
    def objects(self) -> ObjectStore:
        return self.runtime.objects

    def _user(self, who: str) -> uuid.UUID:
        return (
            self.owner_id
            if who == "owner"
            else self.world.users[  # type: ignore[attr-defined]
                {"stranger": "kg-a1", "officer": "officer", "lead": "lead-a"}[who]
            ].id
        )

    @rule(event=st.sampled_from(EVENTS), who=st.sampled_from(ROLES), stale=st.booleans())
    def fire(self, event: str, who: str, stale: bool) -> None:
        with self.runtime.db.sessionmaker() as s:
            user = s.get(User, self._user(who))
            viewer = viewer_for(s, user)
            current = s.get(Application, self.app_id)
            version = current.version - (1 if stale else 0)
            try:
                events.fire_event(
                    session=s,
                    settings=self.runtime.settings,
                    viewer=viewer,
                    objects=self.objects,
                    application_id=self.app_id,
                    event=event,
                    version=version,
                    comment="模型测试意见",
                    fields={"alliance_id": str(self.world.alliances["A"].id)},
                )  # type: ignore[attr-defined]
                s.commit()
                outcome = "ok"
            except DomainError as exc:
                s.rollback()
                outcome = exc.code
        allowed_role = viewer.role in APPLICATION_WORKFLOW.rules[event].roles
        # The lead of alliance A sees the application once it was approved into A.
        may_see = who in ("owner", "officer") or (who == "lead" and self.state == "approved")
        legal = event in GRAPH[self.state]
        if not may_see:
            assert outcome == "not_found", (event, who, outcome)
        elif not allowed_role:
            assert outcome == "forbidden", (event, who, outcome)
        elif stale:
            assert outcome == "stale_version", (event, who, outcome)
        elif not legal:
            assert outcome == "transition_not_allowed", (event, who, self.state, outcome)
        else:
            assert outcome == "ok", (event, who, self.state, outcome)
            self.state = GRAPH[self.state][event]
            self.accepted += 1

    @invariant()
    def database_agrees(self) -> None:
        if not hasattr(self, "app_id"):
            return
        with self.runtime.db.session() as s:
            app = s.get(Application, self.app_id)
            assert app.state == self.state
            assert app.state in GRAPH
            moves = [
                e
                for e in audit.history(s, entity_type="application", entity_id=self.app_id)
                if e.event in APPLICATION_WORKFLOW.rules
            ]
            assert len(moves) == self.accepted
            for before, after in itertools.pairwise(moves):
                assert before.to_state == after.from_state
            assert audit.verify_chain(s).ok


@pytest.mark.slow
def test_random_event_sequences_stay_in_the_graph(runtime, world, without_libreoffice):
    # Decisions issue a 批复; its PDF copy is tested elsewhere, here it would only slow the examples.
    ApplicationWorkflowModel.runtime = runtime
    ApplicationWorkflowModel.world = world
    run_state_machine_as_test(
        ApplicationWorkflowModel,
        settings=settings(
            max_examples=25, stateful_step_count=15, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
