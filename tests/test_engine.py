"""The engine: ordering, `requires`, crash isolation, selection, and third-party checks."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from diagnose import engine
from diagnose.checking import Outcome, check, failed, passed
from diagnose.evidence import Evidence, Key, RawEvidence
from diagnose.model import Problem, ProblemKind, Service, Status, Subject, SubjectKind

ROOT = Path(__file__).resolve().parent.parent


def _evidence(**payloads: object) -> Evidence:
    raw = RawEvidence(Subject(SubjectKind.LEARNER, "123"), "sandbox", "Test")
    raw.payloads.update({k.replace("_", "."): v for k, v in payloads.items()})
    return Evidence(raw)


def _learner_payload() -> dict[str, object]:
    return {"LearnerId": 123, "Personal": {"FirstName": "Jane", "LearnerNumber": "STD0000123"}}


@check("t.base", title="base", applies_to="learner", fix="fix base")
def base(learner: object) -> Outcome:
    """Fails when told to."""
    return failed("base failed")


@check("t.after", title="after", applies_to="learner", fix="-", requires=("t.base",))
def after() -> Outcome:
    return passed("never reached")


@check("t.boom", title="boom", applies_to="learner", fix="-")
def boom() -> Outcome:
    raise RuntimeError("kaput")


@check("t.next", title="next", applies_to="learner", fix="-")
def next_() -> Outcome:
    return passed("still ran")


def test_catalogue_has_every_id_of_the_design_contract() -> None:
    ids = {c.id for c in engine.load_catalogue()}  # the public contract, spelt out here
    expected = {
        "connection.wisenet",
        "connection.xero",
        "learner.found",
        "learner.sync-enabled",
        "learner.full-name",
        "learner.address",
        "learner.email",
        "learner.field-mapping",
        "contact.found",
        "contact.active",
        "contact.duplicates",
        "contact.in-sync",
        "invoice.found",
        "invoice.type",
        "invoice.status",
        "invoice.contact-code",
        "invoice.contact-learner",
        "invoice.contact-merged",
        "invoice.in-wisenet",
        "alerts.clear",
    }
    assert ids == expected


def test_every_check_explains_itself_and_says_how_to_fix() -> None:
    for c in engine.load_catalogue():
        assert c.title, c.id
        assert c.explanation, c.id
        assert c.fix, c.id


def test_catalogue_follows_the_faq_order_with_requirements_first() -> None:
    order = [c.id for c in engine.load_catalogue()]
    families = [cid.split(".")[0] for cid in order]
    assert families == sorted(families, key=engine.FAMILY_ORDER.index)
    for position, c in enumerate(engine.load_catalogue()):
        assert all(order.index(r) < position for r in c.requires)


def test_a_failed_requirement_skips_its_dependants() -> None:
    d = engine.run(_evidence(wisenet_learner=_learner_payload()), engine.order([base, after]))
    statuses = {f.check_id: f.status for f in d.findings}
    assert statuses == {"t.base": Status.FAIL, "t.after": Status.SKIP}
    assert d.findings[0].fix == "fix base"


def test_a_crashing_check_is_an_error_and_the_run_goes_on() -> None:
    d = engine.run(_evidence(wisenet_learner=_learner_payload()), engine.order([boom, next_]))
    by_id = {f.check_id: f for f in d.findings}
    assert by_id["t.boom"].status is Status.ERROR
    assert "RuntimeError: kaput" in by_id["t.boom"].message
    assert by_id["t.next"].status is Status.PASS


def test_missing_evidence_is_an_error_with_its_cause_and_spreads_to_dependants() -> None:
    raw = RawEvidence(Subject(SubjectKind.LEARNER, "123"), "sandbox", "Test")
    raw.problems[Key.WISENET_LEARNER] = Problem(
        Service.WISENET, ProblemKind.RATE_LIMITED, "Wisenet rate-limited us"
    )
    d = engine.run(Evidence(raw), engine.order([base, after]))
    assert [(f.status, f.cause) for f in d.findings] == [
        (Status.ERROR, ProblemKind.RATE_LIMITED),
        (Status.ERROR, ProblemKind.RATE_LIMITED),
    ]
    assert "could not be decided because t.base" in d.findings[1].message


def test_select_adds_requirements_and_rejects_unknown_ids() -> None:
    catalogue = engine.load_catalogue()
    chosen = {c.id for c in engine.select(catalogue, ["contact.active"])}
    assert chosen == {
        "contact.active",
        "contact.found",
        "learner.found",
        "connection.xero",
        "connection.wisenet",
    }
    with pytest.raises(engine.UsageError, match="unknown check id 'nope'"):
        engine.select(catalogue, ["nope"])


def test_a_cycle_or_unknown_requirement_is_a_catalogue_error() -> None:
    @check("x.a", title="a", applies_to="learner", fix="-", requires=("x.b",))
    def a() -> Outcome:
        return passed("")

    @check("x.b", title="b", applies_to="learner", fix="-", requires=("x.a",))
    def b() -> Outcome:
        return passed("")

    with pytest.raises(engine.CatalogueError, match="cycle"):
        engine.order([a, b])
    with pytest.raises(engine.CatalogueError, match="unknown"):
        engine.order([a])


def test_a_misspelt_piece_of_evidence_is_refused_when_the_catalogue_loads() -> None:
    @check("x.typo", title="typo", applies_to="learner", fix="-")
    def typo(lerner: object) -> Outcome:
        return passed("never run")

    with pytest.raises(engine.CatalogueError) as refused:
        engine.order([typo])
    assert "check 'x.typo' asks for unknown evidence 'lerner'" in str(refused.value)
    assert "learner" in str(refused.value).split("among: ")[1]


PLUGIN = '''
from diagnose.api import check, failed

@check("thirdparty.always", title="A plugin check", applies_to="learner",
       requires=("learner.found",), fix="Do the plugin thing.")
def always(learner):
    """Registered through the entry-point group, like the built-in families."""
    return failed(f"plugin saw {learner.learner_number}")
'''


def test_a_third_party_package_adds_checks_through_the_entry_point_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: object
) -> None:
    (tmp_path / "thirdparty_checks.py").write_text(PLUGIN)
    dist = tmp_path / "thirdparty_checks-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-checks\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[diagnose.checks]\nthirdparty = thirdparty_checks\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "thirdparty_checks", raising=False)
    assert "thirdparty.always" in {c.id for c in engine.load_catalogue()}
    run = cli("learner", "101", "--json")  # type: ignore[operator]
    finding = next(f for f in run.json()["findings"] if f["id"] == "thirdparty.always")
    assert (finding["status"], finding["message"]) == ("fail", "plugin saw STD0000101")
    assert run.code == 1


def test_the_public_api_names_every_piece_of_evidence_a_check_may_ask_for() -> None:
    from diagnose import api

    assert set(api.EVIDENCE) == set(engine.FIXTURES)
    assert all(hasattr(api, name) for name in api.__all__)
