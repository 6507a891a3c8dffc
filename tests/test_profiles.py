"""Live profiles: settings, secrets kept out of sight, and a diagnosis over real loopback sockets
against `diagnose sandbox serve` that matches the in-process sandbox."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Run
from test_serve import served

from diagnose.sandbox.responses import SANDBOX_API_KEY, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET

SECRET_ENV = {
    "DIAGNOSE_WISENET_API_KEY": SANDBOX_API_KEY,
    "DIAGNOSE_XERO_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
}


def write_config(tmp_path: Path, base: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        'default_profile = "sandbox"\n\n'
        "[profiles.local]\n"
        f'wisenet_url = "{base}/v1"\n'
        f'xero_url = "{base}"\n'
        f'xero_identity_url = "{base}"\n'
        f'xero_client_id = "{SANDBOX_CLIENT_ID}"\n'
    )
    return path


def findings(run: Run) -> list[tuple[str, str, str, str]]:
    return [
        (f["target"]["label"], f["id"], f["status"], f["message"]) for f in run.json()["findings"]
    ]


def test_a_live_profile_over_loopback_gives_the_sandbox_findings(
    cli: Callable[..., Run], data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_process = cli("learner", "123", "--json")
    with served(data_dir) as base:
        monkeypatch.setenv("DIAGNOSE_CONFIG", str(write_config(tmp_path, base)))
        for key, value in SECRET_ENV.items():
            monkeypatch.setenv(key, value)
        live = cli("learner", "123", "--profile", "local", "--json")
        text = cli("learner", "123", "--profile", "local", "-v")
    assert live.code == in_process.code == 1, live.err
    document = live.json()
    assert (document["mode"], document["tenant"]) == ("live", "Demo RTO Pty Ltd")
    # Event Alerts have no API: the sandbox carries its own, a live profile needs an export
    assert [f for f in findings(live) if f[1] != "alerts.clear"] == [
        f for f in findings(in_process) if f[1] != "alerts.clear"
    ]
    assert {f[2] for f in findings(live) if f[1] == "alerts.clear"} == {"skip"}
    assert any(c["path"] == "/connect/token" for c in document["calls"])
    assert max(c["round"] for c in document["calls"]) <= 2
    assert "SANDBOX" not in text.out
    for secret in (SANDBOX_API_KEY, SANDBOX_CLIENT_SECRET):
        assert secret not in live.out + live.err + text.out + text.err


def test_a_live_invoice_diagnosis_takes_no_more_rounds_than_the_sandbox_s(
    cli: Callable[..., Run], data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A custom connection is bound to its organisation: the invoice is asked for beside
    `/connections`, not in a round after it (4 rounds before, against the sandbox's 3)."""
    in_process = cli("invoice", "INV-0001", "--json").json()
    with served(data_dir) as base:
        monkeypatch.setenv("DIAGNOSE_CONFIG", str(write_config(tmp_path, base)))
        for key, value in SECRET_ENV.items():
            monkeypatch.setenv(key, value)
        live = cli("invoice", "INV-0001", "--profile", "local", "--json")
    assert live.code == 0, live.err
    document = live.json()
    assert document["rounds"] == in_process["rounds"] == 3
    first = {c["path"].split("?")[0] for c in document["calls"] if c["round"] == 1}
    assert first == {"/connections", "/api.xro/2.0/Invoices", "/api.xro/2.0/Invoices/INV-0001"}
    assert document["tenant"] == "Demo RTO Pty Ltd"  # the organisation's name, read beside it
    assert [f for f in findings(live) if f[1] != "alerts.clear"] == [
        f for f in findings(cli("invoice", "INV-0001", "--json")) if f[1] != "alerts.clear"
    ]


def test_wrong_credentials_are_exit_3_with_one_line(
    cli: Callable[..., Run], data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served(data_dir) as base:
        monkeypatch.setenv("DIAGNOSE_CONFIG", str(write_config(tmp_path, base)))
        monkeypatch.setenv("DIAGNOSE_WISENET_API_KEY", SANDBOX_API_KEY)
        monkeypatch.setenv("DIAGNOSE_XERO_CLIENT_SECRET", "not-the-secret")
        run = cli("learner", "123", "--profile", "local")
    assert run.code == 3
    assert run.err.strip() == "diagnose: Xero refused our credentials (invalid_client)"
    assert "not-the-secret" not in run.err + run.out


def test_an_organisation_not_connected_is_named_as_the_setting_to_correct(
    cli: Callable[..., Run], data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Xero answers a call for an organisation the app is not connected to with a 403 that
    reads like a bad sign-in; the person is told which setting is wrong and what it reaches."""
    stray = "11111111-1111-1111-1111-111111111111"
    with served(data_dir) as base:
        path = write_config(tmp_path, base)
        path.write_text(path.read_text() + f'xero_tenant_id = "{stray}"\n')
        monkeypatch.setenv("DIAGNOSE_CONFIG", str(path))
        for key, value in SECRET_ENV.items():
            monkeypatch.setenv(key, value)
        runs = {
            "learner": cli("learner", "123", "--profile", "local"),
            "invoice": cli("invoice", "INV-0001", "--profile", "local"),
            "scan": cli("scan", "--profile", "local"),
        }
        status = cli("status", "--profile", "local")
    for name, run in runs.items():
        assert run.code == 3, (name, run.out, run.err)
        line = run.err.strip()
        assert "\n" not in line, name
        assert f"Xero organisation {stray} (the profile's xero_tenant_id) is not connected" in line
        assert "which reaches Demo RTO Pty Ltd (" in line
        assert "correct or remove xero_tenant_id in the profile" in line
        assert "refused our credentials" not in line
    assert status.code == 3
    said = " ".join(status.out.split())
    assert "✓ Wisenet" in said
    assert f"✗ Xero Xero organisation {stray} (the profile's xero_tenant_id)" in said


def test_the_organisation_reported_connected_is_the_one_the_profile_names(
    cli: Callable[..., Run],
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    demo_tenant: dict[str, Any],
    write_tenant: Callable[[dict[str, Any]], Path],
) -> None:
    """With two organisations connected and the profile naming the second, the diagnosis and its
    connection check both speak of the second (the check named the first, so a support request
    could point Xero's support at the wrong organisation)."""
    tenant = demo_tenant
    ours = tenant["xero"]["connections"][0]
    other = {**ours, "id": str(uuid.uuid4()), "tenantId": str(uuid.uuid4())}
    tenant["xero"]["connections"] = [{**other, "tenantName": "Northern Campus Pty Ltd"}, ours]
    with served(data_dir, "--tenant", str(write_tenant(tenant))) as base:
        path = write_config(tmp_path, base)
        path.write_text(path.read_text() + f'xero_tenant_id = "{ours["tenantId"]}"\n')
        monkeypatch.setenv("DIAGNOSE_CONFIG", str(path))
        for key, value in SECRET_ENV.items():
            monkeypatch.setenv(key, value)
        run = cli("learner", "123", "--profile", "local", "--json")
        scan = cli("scan", "--profile", "local", "--json")
    assert run.code == scan.code == 1, run.err + scan.err
    assert run.json()["tenant"] == scan.json()["tenant"] == "Demo RTO Pty Ltd"
    said = {f["message"] for f in run.json()["findings"] if f["id"] == "connection.xero"}
    assert said == {"connected to Demo RTO Pty Ltd"}


def test_config_show_names_secrets_only_as_set(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIAGNOSE_CONFIG", str(write_config(tmp_path, "http://127.0.0.1:9")))
    monkeypatch.setenv("DIAGNOSE_XERO_CLIENT_SECRET", "sentinel-secret-value")
    run = cli("config", "show", "--profile", "local")
    shown = {line.split()[0]: " ".join(line.split()[1:]) for line in run.out.splitlines()[1:]}
    assert shown["xero_client_secret"] == "set ($DIAGNOSE_XERO_CLIENT_SECRET)"  # noqa: S105
    assert shown["wisenet_api_key"] == "not set ($DIAGNOSE_WISENET_API_KEY)"
    assert "sentinel-secret-value" not in run.out
    assert "the built-in sandbox tenant" in cli("config", "show").out


@pytest.mark.parametrize(
    ("setting", "needle"),
    [
        ('wisenet_url = "http://wisenet.example.com/v1"', "must be an https URL"),
        ('colour = "blue"', "unknown setting 'colour'"),
        ('timezone = "AEST"', "timezone 'AEST' is not a time zone name"),
        ('timezone = "Australia/Atlantis"', "is not a time zone name"),
    ],
)
def test_an_unsafe_or_unknown_setting_is_refused(
    cli: Callable[..., Run],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    setting: str,
    needle: str,
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"[profiles.bad]\n{setting}\n")
    monkeypatch.setenv("DIAGNOSE_CONFIG", str(path))
    run = cli("learner", "123", "--profile", "bad")
    assert run.code == 2
    assert needle in run.err


def test_an_unknown_profile_and_a_missing_secret_are_usage_errors(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIAGNOSE_CONFIG", str(write_config(tmp_path, "http://127.0.0.1:9")))
    assert "no profile 'nope'" in cli("learner", "123", "--profile", "nope").err
    run = cli("learner", "123", "--profile", "local")
    assert run.code == 2
    assert "needs a Wisenet API key (`diagnose connect wisenet --profile local`, or" in run.err
    assert "$DIAGNOSE_WISENET_API_KEY)" in run.err


def test_status_of_the_sandbox_and_of_a_live_profile(
    cli: Callable[..., Run], data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = cli("status")
    assert sandbox.code == 0
    assert "✓ sandbox  serves Demo RTO Pty Ltd in-process, as shipped" in sandbox.out
    with served(data_dir) as base:
        monkeypatch.setenv("DIAGNOSE_CONFIG", str(write_config(tmp_path, base)))
        for key, value in SECRET_ENV.items():
            monkeypatch.setenv(key, value)
        good = cli("status", "--profile", "local")
        monkeypatch.setenv("DIAGNOSE_WISENET_API_KEY", "wrong-key")
        bad = cli("status", "--profile", "local")
    assert good.code == 0, good.out
    assert "✓ Wisenet  answers at" in good.out
    assert "✓ Xero     organisation Demo RTO Pty Ltd · token valid 30 min" in good.out
    assert "calls left today" in good.out
    assert bad.code == 3
    assert "✗ Wisenet  Wisenet refused our credentials (HTTP 401" in bad.out
    assert "→ give the key again: diagnose connect wisenet --profile local" in bad.out
    for secret in (*SECRET_ENV.values(), "wrong-key"):
        assert secret not in good.out + bad.out


def test_status_asks_wisenet_when_xero_s_sign_in_fails(
    cli: Callable[..., Run], data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Xero's sign-in (its identity server) out of reach: Wisenet is still asked, so the person
    learns both services' state at once, each with its fix, wrapped to the terminal."""
    with served(data_dir) as base:
        path = write_config(tmp_path, base)
        path.write_text(path.read_text().replace(f'identity_url = "{base}"', 'identity_url = '
                                                 '"http://127.0.0.1:9"'))  # fmt: skip
        monkeypatch.setenv("DIAGNOSE_CONFIG", str(path))
        for key, value in SECRET_ENV.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("COLUMNS", "70")
        run = cli("status", "--profile", "local")
    assert run.code == 3
    assert "  ✓ Wisenet  answers at" in run.out
    assert "  ✗ Xero     Xero could not be reached" in run.out
    said = " ".join(run.out.split())
    assert 'check xero_identity_url = "http://127.0.0.1:9" in the profile' in said
    assert "→ check this machine's network (and the address above), then try again" in said
    assert max(len(line) for line in run.out.splitlines()) <= 70


def test_an_unreachable_usual_address_points_at_the_network_not_the_setting() -> None:
    import asyncio

    import httpx

    from diagnose.errors import SourceError
    from diagnose.model import Service
    from diagnose.sources.calls import CallLog
    from diagnose.sources.http import Session

    def offline(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)

    async def ask() -> None:
        async with Session(
            Service.XERO, "https://identity.xero.com", CallLog(), setting="xero_identity_url",
            transport=httpx.MockTransport(offline),
        ) as session:  # fmt: skip
            await session.get("/connect/token")

    with pytest.raises(SourceError) as refused:
        asyncio.run(ask())
    said = str(refused.value)
    assert "could not be reached" in said
    assert "the profile has its usual address: check this machine's network" in said
    assert "check xero_identity_url" not in said


def test_retry_after_is_honoured_by_the_servers_clock(
    cli: Callable[..., Run], data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    import json

    import httpx

    from diagnose.sources import policy

    async def really_wait(seconds: float) -> None:
        await asyncio.sleep(seconds)

    monkeypatch.setattr(policy, "pause", really_wait)
    path = "/api.xro/2.0/Contacts/STD0000123"
    fault = [{"method": "GET", "path": path, "nth": 1, "status": 429, "retry_after": 1}]
    with served(data_dir, "--faults", json.dumps(fault)) as base:
        monkeypatch.setenv("DIAGNOSE_CONFIG", str(write_config(tmp_path, base)))
        for key, value in SECRET_ENV.items():
            monkeypatch.setenv(key, value)
        run = cli("learner", "123", "--profile", "local", "--json")
        arrivals = httpx.get(f"{base}/_sandbox/requests").json()
    assert run.code == 1, run.err
    assert not [f for f in run.json()["findings"] if f["status"] == "error"]
    times = [a["at"] for a in arrivals if a["path"] == path]
    assert len(times) == 2
    assert times[1] - times[0] >= 1.0  # the second try came after the Retry-After


def test_a_burst_of_slow_diagnoses_shares_five_calls_at_once_without_a_429(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    import os
    import subprocess
    import sys

    import httpx

    limits = ("--rate-limit", "xero=60/min", "--concurrent", "5", "--latency-ms", "300")
    with served(data_dir, *limits) as base:
        env = {
            **os.environ,
            **SECRET_ENV,
            "DIAGNOSE_CONFIG": str(write_config(tmp_path, base)),
            "DIAGNOSE_DATA_DIR": str(data_dir),
        }
        burst = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "diagnose",
                    "learner",
                    learner,
                    "--profile",
                    "local",
                    "--json",
                ],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for learner in ("101", "102", "103", "109", "113", "116", "117", "123")
        ]
        results = [(p.wait(timeout=120), *p.communicate()) for p in burst]
        arrivals = httpx.get(f"{base}/_sandbox/requests").json()
    for code, out, err in results:
        assert code in (0, 1), err  # never 4: every 429 was waited out and retried
        errors = [f for f in json.loads(out)["findings"] if f["status"] == "error"]
        assert errors == [], errors
    xero_calls = [a for a in arrivals if a["path"].startswith("/api.xro")]
    # the processes shared 5 calls at once between them: none was turned away and retried
    # four Xero calls a diagnosis; a fifth for learner 109, whose look-alike's invoices are read
    assert len(xero_calls) == 8 * 4 + 1
    assert [a for a in arrivals if a.get("limited")] == []
