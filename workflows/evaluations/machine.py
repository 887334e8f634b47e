"""The annual evaluation workflow (DESIGN §3): states, events and who may fire them, declared once.

``draft → self_assessed → scored → published``. ``score`` is fired by the officer and the researcher,
each for the items their role assesses; it stays in ``self_assessed`` until every manual item has a
final score and then moves to ``scored`` (the guard is ``Evaluation.scoring_complete``). Corrections
stay possible in ``scored``. ``recompute`` reads late records again before publication; ``publish``
recomputes once more and locks the evaluation for good.
"""

from __future__ import annotations

from statemachine import State, StateMachine

from workflows.machine import EventRule, Workflow
from workflows.roles import Role


class EvaluationMachine(StateMachine):
    draft = State("待自评", initial=True, value="draft")
    self_assessed = State("已自评", value="self_assessed")
    scored = State("已评分", value="scored")
    published = State("已公布", final=True, value="published")

    self_assess = draft.to(self_assessed)
    score = (
        self_assessed.to(scored, cond="scoring_complete")
        | self_assessed.to.itself(unless="scoring_complete")
        | scored.to.itself()
    )
    recompute = draft.to.itself() | self_assessed.to.itself() | scored.to.itself()
    publish = scored.to(published)


LEAD = frozenset({Role.LEAD})
OFFICER = frozenset({Role.OFFICER})
SCORERS = frozenset({Role.OFFICER, Role.RESEARCHER})

EVALUATION_WORKFLOW = Workflow(
    entity_type="evaluation",
    machine=EvaluationMachine,
    rules={
        "self_assess": EventRule(LEAD, "提交自评"),
        "score": EventRule(SCORERS, "评分"),
        "recompute": EventRule(OFFICER, "重新计算"),
        "publish": EventRule(OFFICER, "公布结果"),
    },
    state_labels={s.value: s.name for s in EvaluationMachine.states},
)

# Which role gives the final score of an item, by the item's assessor; automatic items may be
# overridden by the officer (with a reason).
ITEM_SCORERS: dict[str, frozenset[Role]] = {
    "auto": OFFICER,
    "officer": OFFICER,
    "researcher": frozenset({Role.RESEARCHER}),
}
ASSESSOR_LABELS = {"auto": "系统计算", "officer": "成幼科", "researcher": "教研室"}
