"""The remedies and the walkthrough on a live profile, over real loopback sockets against
`diagnose sandbox serve`: what a support team connected to its own Wisenet and Xero gets."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import Run
from harness import FAILPOINT_ENV
from test_connect import sign_in, web_profile  # noqa: F401 — a fixture, used by name
from test_profiles import SECRET_ENV, write_config
from test_serve import TENANT_ID, served, token
from test_tui import rows, settle
from test_writes import diagnose as in_a_process

from diagnose import remedy
from diagnose.core import open_core
from diagnose.model import SubjectKind
from diagnose.remedy import retoggle
from diagnose.sandbox.responses import SANDBOX_API_KEY
from diagnose.tui.app import DiagnoseApp
from diagnose.tui.dialogs import TypedConfirmScreen
from diagnose.tui.walkthrough import WalkthroughScreen

ORGANISATION = "Demo RTO Pty Ltd"
LIVE = ("--profile", "local")


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retoggle, "TICK_BACKOFF", (0.0, 0.0, 0.0))


@pytest.fixture
def loop(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A live profile `local` (a custom connection and a Wisenet API key) pointed at the
    sandbox served on loopback."""
    with served(data_dir) as base:
        monkeypatch.setenv("DIAGNOSE_CONFIG", str(write_config(tmp_path, base)))
        for key, value in SECRET_ENV.items():
            monkeypatch.setenv(key, value)
        yield base


def statuses(run: Run) -> dict[str, str]:
    assert run.out, run.err
    return {
        f["id"]: f["status"] for f in run.json()["findings"] if f["target"]["kind"] == "learner"
    }


def ticked(base: str, learner_id: int) -> bool:
    """What the served Wisenet holds, asked directly (a diagnose command would first finish
    any re-toggle left in the journal)."""
    answer = httpx.get(f"{base}/v1/learnersAU/{learner_id}", headers={"x-api-key": SANDBOX_API_KEY})
    return bool(answer.json()["Data"]["Personal"]["SyncToXero"])


def audit(cli: Callable[..., Run], *args: str) -> list[dict[str, Any]]:
    return list(cli("audit", "--json", *args).json()["entries"])


class Terminal(io.StringIO):
    """Standard input at a terminal, with what the person types."""

    def isatty(self) -> bool:
        return True


def test_both_remedies_work_through_a_live_profile_and_are_audited(
    cli: Callable[..., Run], loop: str
) -> None:
    assert statuses(cli("learner", "103", *LIVE, "--json"))["learner.sync-enabled"] == "fail"
    run = cli("resync", "learner", "103", *LIVE, "--yes")
    assert run.code == 0, run.err
    assert '"Sync to Xero" was not ticked: it is ticked now' in run.out
    plan = run.err  # printed even with --yes
    assert f"In Xero organisation {ORGANISATION} and Wisenet 127.0.0.1:" in plan
    assert "live profile local" in plan
    assert "PATCH /v1/learnersAU/103" in plan
    assert statuses(cli("learner", "103", *LIVE, "--json"))["learner.sync-enabled"] == "pass"

    assert statuses(cli("learner", "108", *LIVE, "--json"))["contact.found"] == "fail"
    fix = cli("fix", "contact-code", "learner", "108", *LIVE, "--yes")
    assert fix.code == 0, fix.err
    assert "Isabella Rossi now has Contact Code STD0000108" in fix.out
    assert "https://go.xero.com/Contacts/View/" in fix.err
    assert statuses(cli("learner", "108", *LIVE, "--json"))["contact.found"] == "pass"

    entries = audit(cli, "--profile", "local")
    assert [(e["action"], e["subject"], e["outcome"]) for e in entries] == [
        ("resync", "learner 103", "done"),
        ("fix-contact-code", "learner 108", "done"),
    ]
    for entry in entries:
        assert (entry["profile"], entry["tenant"], entry["organisation_id"]) == (
            "local",
            ORGANISATION,
            TENANT_ID,
        )
        assert entry["wisenet"].startswith("127.0.0.1:")
        assert entry["who"]
        assert entry["os_user"]
    resync_calls = [(r["method"], r["status"]) for r in entries[0]["requests"]]
    assert resync_calls == [("PATCH", 200), ("GET", 200)]
    post = next(r for r in entries[1]["requests"] if r["method"] == "POST")
    assert post["path"].startswith("/api.xro/2.0/Contacts/")
    assert post["correlation_id"]
    assert audit(cli, "--profile", "sandbox") == []
    assert f"local · {ORGANISATION}  resync  learner 103  done" in cli("audit").out


def test_the_learner_flavour_comes_from_the_profile(
    cli: Callable[..., Run], loop: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path, loop)
    config.write_text(config.read_text() + 'wisenet_flavour = "NZ"\n')
    run = cli("resync", "learner", "103", *LIVE, "--dry-run")
    asked = [r["path"] for r in httpx.get(f"{loop}/_sandbox/requests").json()]
    assert "/v1/learnersNZ/103" in asked  # the demo Wisenet serves AU learners only: a 404
    assert "/v1/learnersAU/103" not in asked
    # a route the service does not have is a setting to look at, not a missing learner
    said = " ".join(run.out.split())  # as read: the plan's sentences are wrapped to the width
    assert "learner 103: skipped — Wisenet is not what answered at" in said
    assert "(or wisenet_flavour: the learners endpoint differs by country)" in said


def test_the_plan_warns_when_a_re_toggle_alone_cannot_reach_xero(
    cli: Callable[..., Run], loop: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Learner 123's contact is archived in Xero: its plan (as --dry-run and the confirmation
    show it) says so before anything is written; learner 103's, whose contact is new, does not."""
    monkeypatch.setenv("COLUMNS", "80")
    run = cli("resync", "learner", "123", "103", *LIVE, "--dry-run")
    assert run.code == 0, run.err
    said = " ".join(run.out.split())
    assert (
        "NOTE: Jane Citizen is archived, so Xero refuses Wisenet's updates: this re-toggle alone "
        "does not reach Xero until that is put right there (`diagnose learner 123` says how)"
    ) in said
    assert said.count("NOTE:") == 1
    assert max(len(line) for line in run.out.splitlines() if "PATCH" not in line) <= 80
    asked = httpx.get(f"{loop}/_sandbox/requests").json()
    assert "/api.xro/2.0/Contacts/STD0000123" in [r["path"] for r in asked]
    assert {r["path"] for r in asked if r["method"] != "GET"} == {"/connect/token"}  # a dry run


def test_a_live_resync_killed_mid_way_is_finished_through_its_profile(
    cli: Callable[..., Run], loop: str, data_dir: Path
) -> None:
    killed = in_a_process(
        data_dir,
        "resync",
        "learner",
        "101",
        *LIVE,
        "--yes",
        env={FAILPOINT_ENV: "resync.after-untick"},
    )
    assert killed.code == -9, killed.err
    assert not ticked(loop, 101)  # the live learner is left unticked by the kill
    (path,) = (data_dir / "journal").glob("*.json")
    entry = json.loads(path.read_text())
    assert (entry["profile"], entry["sandbox"], entry["organisation"]) == (
        "local",
        "",
        ORGANISATION,
    )
    assert entry["organisation_id"] == TENANT_ID

    other = cli("resync", "--recover", "--profile", "sandbox")  # another profile's: left alone
    assert "nothing to recover" in other.out
    assert not ticked(loop, 101)

    run = cli("resync", "--recover", "--profile", "local")
    assert run.code == 0, run.err
    assert "learner 101: the interrupted resync is finished" in run.err
    assert ticked(loop, 101)
    assert not list((data_dir / "journal").glob("*.json"))
    last = audit(cli)[-1]
    assert (last["action"], last["profile"], last["tenant"]) == (
        "resync-recover",
        "local",
        ORGANISATION,
    )


def minutes_apart(pauses: list[float]) -> int:
    """How many of the pauses (the test's clock moves by them) kept checks a minute apart: a
    wait pauses until the next check's time, less what the check before it took."""
    return sum(50 < p <= 60 for p in pauses)


def test_wait_polls_a_live_profile_each_minute_until_synced(
    cli: Callable[..., Run], loop: str, pauses: list[float]
) -> None:
    run = cli("resync", "learner", "103", *LIVE, "--yes", "--wait", "10m")
    assert run.code == 0, run.err
    assert "✓ learner 103: synced — the Xero contact matches Wisenet" in run.out
    assert "waiting up to 10 min for learner 103 to reach Xero (a check every 1 min;" in " ".join(
        run.err.split()
    )
    assert "check 1 at 0:0" in run.err

    stuck = cli("resync", "learner", "104", *LIVE, "--yes", "--wait", "3m")  # no surname
    assert stuck.code == 1
    assert "✗ learner 104: not synced yet — learner.full-name" in stuck.out
    assert [line.split(" at ")[0].strip() for line in stuck.err.splitlines() if " at " in line] == [
        "check 1",
        "check 2",
        "check 3",
        "check 4",
    ]
    assert minutes_apart(pauses) == 3  # between the four checks, a minute each

    short = cli("resync", "learner", "104", *LIVE, "--yes", "--wait", "30s")
    assert "waiting up to 30 s for learner 104 to reach Xero (a check every 30 s;" in " ".join(
        short.err.split()
    )
    # not one check at once and no more: the wait's end is checked too (the test's clock
    # moves by the pauses, recorded instead of slept, and by the little the checks take)
    assert sum(line.startswith("  check ") for line in short.err.splitlines()) == 2
    assert 25 < pauses[-1] <= 30.0

    odd = cli("resync", "learner", "104", *LIVE, "--yes", "--wait", "90s")
    # a minute apart, and the last at the wait's end: not 0:00 and 1:00 only
    assert sum(line.startswith("  check ") for line in odd.err.splitlines()) == 3
    assert [round(p / 30) * 30 for p in pauses[-2:]] == [60, 30]


def xero_calls_left_today(base: str) -> int:
    """What Xero says of the organisation's day (`X-DayLimit-Remaining`), asked with one call."""
    bearer = f"Bearer {token(base).json()['access_token']}"
    headers = {"Authorization": bearer, "xero-tenant-id": TENANT_ID}
    answer = httpx.get(f"{base}/api.xro/2.0/Contacts/STD0000103", headers=headers)
    return int(answer.headers["X-DayLimit-Remaining"])


def test_a_wait_s_checks_read_only_the_learner_and_its_contact(
    cli: Callable[..., Run], loop: str, pauses: list[float]
) -> None:
    """Xero allows the app 5,000 calls a day (1,000 on its Starter tier) and 60 a minute for
    the organisation: a check that finds the learner still on its way reads its contact alone
    (1 of those calls, where a diagnosis makes 4: the contact, its invoices, two searches), and
    so does one that finds it synced; the wait's last check is a whole diagnosis."""
    spent = []
    for wait in ("1m", "3m"):  # two checks, then four: learner 104 (no surname) never syncs
        before = xero_calls_left_today(loop)
        run = cli("resync", "learner", "104", *LIVE, "--yes", "--wait", wait)
        assert run.code == 1
        spent.append(before - xero_calls_left_today(loop) - 1)
        said = " ".join(run.out.split())
        assert (
            "✗ learner 104: not synced yet — learner.full-name: the learner has no surname; "
            "contact.found: no Xero contact has Contact Code STD0000104"
        ) in said
    assert spent[1] - spent[0] == 2  # the two checks more: the contact each
    assert "check 3 at 2:00: learner.full-name: the learner has no surname" in run.err
    before = xero_calls_left_today(loop)
    at_once = cli("resync", "learner", "103", *LIVE, "--yes", "--wait", "3m")  # synced at once
    assert at_once.code == 0
    assert "✓ learner 103: synced — the Xero contact matches Wisenet (after 0:00)" in at_once.out
    assert before - xero_calls_left_today(loop) - 1 == 2  # the plan's read, then the one check


def test_a_wait_stops_at_once_when_the_contact_is_archived_in_xero(
    cli: Callable[..., Run], loop: str, pauses: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No wait brings an archived contact back: the person is told at the first check what to
    do in Xero and that the learner then needs re-ticking, not left waiting ten minutes."""
    monkeypatch.setenv("COLUMNS", "80")
    run = cli("resync", "learner", "123", *LIVE, "--yes", "--wait", "10m")
    assert run.code == 1
    assert sum(line.startswith("  check ") for line in run.err.splitlines()) == 1
    assert minutes_apart(pauses) == 0
    said = " ".join(run.out.split())
    assert (
        "✗ learner 123: cannot reach Xero until its contact is put right there, so the wait "
        "stopped at 0:00 — Jane Citizen is archived, so Xero refuses Wisenet's updates"
    ) in said
    assert (
        "Fix: In Xero open Contacts › All contacts › Archived, open Jane Citizen and choose "
        "Restore;"
    ) in said
    assert "(`diagnose resync learner 123` re-ticks it.)" in said
    assert max(len(line) for line in run.out.splitlines()) <= 80


def test_several_learners_are_waited_for_together_within_the_one_wait(
    cli: Callable[..., Run], loop: str, pauses: list[float]
) -> None:
    """`--wait 3m` for three learners is three minutes in all, not three each: each check asks
    after those still on their way, and each learner's end is said once."""
    run = cli("resync", "learner", "103", "104", "123", *LIVE, "--yes", "--wait", "3m")
    assert run.code == 1
    assert "waiting up to 3 min for 3 learners (103, 104, 123) to reach Xero" in " ".join(
        run.err.split()
    )
    assert minutes_apart(pauses) == 3  # four checks a minute apart, for all three together
    checks = [
        (line.split(" at ")[0].strip(), line.split(", ")[1].split(":")[0])
        for line in run.err.splitlines()
        if line.startswith("  check ")
    ]
    assert checks == [
        ("check 1", "learner 103"),
        ("check 1", "learner 104"),
        ("check 1", "learner 123"),  # archived: not asked again
        ("check 2", "learner 104"),
        ("check 3", "learner 104"),
        ("check 4", "learner 104"),
    ]
    assert ", learner 103: synced" in run.err
    ends = [line for line in run.out.splitlines() if line.startswith(("✓ learner", "✗ learner"))]
    said = [" ".join(line.split()[:6]) for line in ends[3:]]
    assert said == [
        "✓ learner 103: synced — the",
        "✗ learner 104: not synced yet",
        "✗ learner 123: cannot reach Xero",
    ]


def test_a_sign_in_without_the_write_scope_is_refused_with_the_command_that_grants_it(
    cli: Callable[..., Run],
    web_profile: tuple[str, dict[str, str]],  # noqa: F811
) -> None:
    _base, env = web_profile
    assert sign_in(env)[0] == 0  # read scopes only, as by default
    run = cli("fix", "contact-code", "learner", "108", "--profile", "web", "--yes")
    assert run.code == 1
    assert (
        "profile 'web' may only read Xero contacts (no accounting.contacts scope): run "
        "'diagnose connect xero --profile web --write'" in run.err
    )
    assert statuses(cli("learner", "108", "--profile", "web", "--json"))["contact.found"] == "fail"
    assert audit(cli)[-1]["outcome"] == "refused"

    code, out, _ = sign_in(env, "xero", "--write")
    assert code == 0, out
    fixed = cli("fix", "contact-code", "learner", "108", "--profile", "web", "--yes")
    assert fixed.code == 0, fixed.err
    assert statuses(cli("learner", "108", "--profile", "web", "--json"))["contact.found"] == "pass"


def test_the_sandbox_grants_only_the_scopes_asked_for_and_refuses_a_write_without_them(
    data_dir: Path,
) -> None:
    contact = "/api.xro/2.0/Contacts/2cc82b84-3bd3-5af7-8354-a10f4c01eb5a"
    body = {"Contacts": [{"ContactNumber": "STD0000108"}]}
    with served(data_dir, "--redirect-uri", "http://127.0.0.1:1/callback") as base:
        custom = token(base).json()
        assert "accounting.contacts" in custom["scope"].split()

        def signed_in(scope: str) -> httpx.Response:
            consent = httpx.get(
                f"{base}/identity/connect/authorize",
                params={
                    "response_type": "code",
                    "client_id": "sandbox-client",
                    "redirect_uri": "http://127.0.0.1:1/callback",
                    "scope": scope,
                    "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                    "code_challenge_method": "S256",
                },
            )
            return consent

        unknown = signed_in("openid accounting.everything")
        assert "error=invalid_scope" in unknown.headers["location"]
        code = signed_in("openid offline_access accounting.contacts.read accounting.invoices.read")
        grant = httpx.post(
            f"{base}/connect/token",
            data={
                "grant_type": "authorization_code",
                "client_id": "sandbox-client",
                "code": code.headers["location"].split("code=")[1].split("&")[0],
                "redirect_uri": "http://127.0.0.1:1/callback",
                "code_verifier": "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            },
        ).json()
        assert (
            grant["scope"]
            == "openid offline_access accounting.contacts.read accounting.invoices.read"
        )
        reader = {"Authorization": f"Bearer {grant['access_token']}", "xero-tenant-id": TENANT_ID}
        assert httpx.get(f"{base}{contact}", headers=reader).status_code == 200
        refused = httpx.post(f"{base}{contact}", headers=reader, json=body)
        assert refused.status_code == 403
        assert refused.json()["Detail"] == "AuthenticationUnsuccessful"
        writer = {"Authorization": f"Bearer {custom['access_token']}", "xero-tenant-id": TENANT_ID}
        assert httpx.post(f"{base}{contact}", headers=writer, json=body).status_code == 200


def test_at_a_terminal_a_live_write_needs_the_organisation_s_name_typed(
    cli: Callable[..., Run], loop: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", Terminal("Demo RTO\n"))
    run = cli("resync", "learner", "103", *LIVE)
    assert run.code == 2
    assert "Type the organisation's name (Demo RTO Pty Ltd)" in run.err
    assert "the name typed ('Demo RTO') is not 'Demo RTO Pty Ltd': nothing written" in run.err
    assert not ticked(loop, 103)
    assert (audit(cli)[-1]["outcome"], audit(cli)[-1]["detail"]) == (
        "refused",
        "the name typed ('Demo RTO') is not 'Demo RTO Pty Ltd'",
    )
    monkeypatch.setattr(sys, "stdin", Terminal("Demo RTO Pty Ltd\n"))
    assert cli("resync", "learner", "103", *LIVE).code == 0
    assert ticked(loop, 103)


def test_a_contact_changed_in_xero_since_the_diagnosis_is_not_overwritten(
    cli: Callable[..., Run], loop: str
) -> None:
    core = open_core("local")
    plan = asyncio.run(core.plan_code_fix("108"))
    assert not plan.fix.refusal
    assert not plan.scope_refusal
    # meanwhile somebody in finance gives that contact another code
    custom = token(loop).json()["access_token"]
    other = {"Contacts": [{"ContactID": plan.fix.contact_id, "ContactNumber": "FIN-7"}]}
    headers = {"Authorization": f"Bearer {custom}", "xero-tenant-id": TENANT_ID}
    assert httpx.post(
        f"{loop}/api.xro/2.0/Contacts/{plan.fix.contact_id}", headers=headers, json=other
    ).is_success
    with pytest.raises(remedy.Refusal) as refused:
        asyncio.run(core.apply_code_fix(plan))
    assert "Isabella Rossi has Contact Code FIN-7 now since the diagnosis" in str(refused.value)
    assert "nothing written" in str(refused.value)
    assert audit(cli)[-1]["outcome"] == "refused"


def test_a_fix_made_by_another_command_meanwhile_is_done_not_refused(
    cli: Callable[..., Run], loop: str
) -> None:
    core = open_core("local")
    plan = asyncio.run(core.plan_code_fix("108"))
    assert cli("fix", "contact-code", "learner", "108", "--yes", *LIVE).code == 0  # another
    posts = len(audit(cli))
    said = asyncio.run(core.apply_code_fix(plan))
    assert "Isabella Rossi already holds Contact Code STD0000108" in said
    assert "another command set it since the diagnosis; nothing to fix, nothing written" in said
    assert len(audit(cli)) == posts  # nothing asked of Xero was written


def test_a_contact_edited_since_the_diagnosis_is_not_written_on_the_sandbox_either() -> None:
    core = open_core(None, writing=True)
    plan = asyncio.run(core.plan_code_fix("108"))
    assert core.box is not None
    seen = next(c for c in core.box.tenant.contacts if c["ContactID"] == plan.fix.contact_id)
    seen["UpdatedDateUTC"] = "/Date(1893456000000+0000)/"  # edited in Xero meanwhile
    with pytest.raises(remedy.Refusal, match="was changed in Xero"):
        asyncio.run(core.apply_code_fix(plan))
    assert seen.get("ContactNumber", "") == ""


def test_a_bulk_resync_is_capped(cli: Callable[..., Run], data_dir: Path) -> None:
    run = cli("resync", "learner", "101", "102", "103", "--max", "2", "--yes")
    assert run.code == 2
    assert "3 learners named, more than --max 2" in run.err
    assert not (data_dir / "sandbox").exists()


async def test_the_walkthrough_on_a_live_profile_retoggles_after_the_typed_name(
    loop: str, data_dir: Path
) -> None:
    app = DiagnoseApp(profile="local", kind=SubjectKind.LEARNER, ref="103")
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, WalkthroughScreen)
        banner = str(app.screen.query_one("#where").render())
        assert banner.startswith(f"LIVE · {ORGANISATION} · profile local")
        assert "SANDBOX" not in banner
        assert rows(app)["learner.sync-enabled@learner"] == "✗"

        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TypedConfirmScreen)
        await pilot.press(*"Demo RTO", "enter")  # not the whole name: nothing written
        await settle(pilot)
        assert isinstance(app.screen, WalkthroughScreen)
        assert not ticked(loop, 103)
        assert any("nothing written" in n.message for n in app._notifications)

        await pilot.press("t")
        await settle(pilot)
        await pilot.press(*ORGANISATION, "enter")
        await settle(pilot)
        await settle(pilot)
        assert ticked(loop, 103)
        assert rows(app)["learner.sync-enabled@learner"] == "✓"


async def test_the_walkthrough_offers_the_contact_code_fix_where_the_code_was_lost(
    loop: str,
) -> None:
    app = DiagnoseApp(profile="local", kind=SubjectKind.LEARNER, ref="108")
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await settle(pilot)
        assert rows(app)["contact.found@learner"] == "✗"
        await pilot.press("k")
        await settle(pilot)
        assert isinstance(app.screen, TypedConfirmScreen)
        await pilot.press(*ORGANISATION, "enter")
        await settle(pilot)
        await settle(pilot)
        assert rows(app)["contact.found@learner"] == "✓"
        assert any("now has Contact Code STD0000108" in n.message for n in app._notifications)
