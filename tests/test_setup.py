"""A team's first live run: the mistakes made while setting up are named, not misread as
verdicts about learners (against `diagnose sandbox serve` on loopback)."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from conftest import Run
from test_profiles import SECRET_ENV
from test_serve import served, token

from diagnose.sandbox.responses import SANDBOX_API_KEY, SANDBOX_CLIENT_ID


@pytest.fixture
def base(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with served(data_dir) as address:
        for key, value in SECRET_ENV.items():
            monkeypatch.setenv(key, value)
        yield address


def profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, wisenet: str, xero: str, identity: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        "[profiles.p]\n"
        f'wisenet_url = "{wisenet}"\nxero_url = "{xero}"\nxero_identity_url = "{identity}"\n'
        f'xero_client_id = "{SANDBOX_CLIENT_ID}"\n'
    )
    monkeypatch.setenv("DIAGNOSE_CONFIG", str(path))


def test_a_wisenet_address_without_v1_is_named_not_read_as_a_missing_learner(
    cli: Callable[..., Run], base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile(tmp_path, monkeypatch, wisenet=base, xero=base, identity=base)
    run = cli("learner", "123", "--profile", "p")
    assert run.code == 3
    assert run.err.count("\n") == 1
    assert "Wisenet is not what answered at" in run.err
    assert f'check wisenet_url = "{base}" in the profile (usually https://api.wisenet.co/v1)' in (
        run.err
    )
    assert "no Wisenet learner" not in run.err
    status = cli("status", "--profile", "p")
    assert status.code == 3
    assert "✗ Wisenet" in status.out
    assert "correct the address in the profile" in status.out


def test_a_wrong_xero_address_is_exit_3_naming_the_setting(
    cli: Callable[..., Run], base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile(tmp_path, monkeypatch, wisenet=f"{base}/v1", xero=f"{base}/xero", identity=base)
    for args in (("learner", "123"), ("invoice", "INV-0042"), ("scan",)):
        run = cli(*args, "--profile", "p")
        assert run.code == 3, (args, run.out, run.err)
        assert f'check xero_url = "{base}/xero" in the profile' in run.err
    status = cli("status", "--profile", "p")
    assert "✗ Xero" in status.out
    profile(tmp_path, monkeypatch, wisenet=f"{base}/v1", xero=base, identity=f"{base}/id")
    signed = cli("learner", "123", "--profile", "p")
    assert signed.code == 3
    assert f'check xero_identity_url = "{base}/id"' in signed.err


def test_a_missing_record_is_still_a_missing_record(
    cli: Callable[..., Run], base: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile(tmp_path, monkeypatch, wisenet=f"{base}/v1", xero=base, identity=base)
    learner = cli("learner", "99999", "--profile", "p")
    assert learner.code == 2
    assert "no Wisenet learner has LearnerId '99999'" in learner.err
    invoice = cli("invoice", "INV-9999", "--profile", "p")
    assert invoice.code == 2, invoice.err


def test_the_sandbox_answers_unknown_routes_unlike_a_missing_record(base: str) -> None:
    wisenet = {"x-api-key": SANDBOX_API_KEY}
    missing = httpx.get(f"{base}/v1/learnersAU/99999", headers=wisenet)
    assert missing.status_code == 404
    assert missing.json()["Message"].endswith("was not found.")
    route = httpx.get(f"{base}/v1/learnersXX/1", headers=wisenet)
    assert route.status_code == 404
    assert route.json()["Message"].startswith("No HTTP resource was found that matches")
    page = httpx.get(f"{base}/learnersAU/1", headers=wisenet)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    bearer = {"Authorization": f"Bearer {token(base).json()['access_token']}"}
    tenant = httpx.get(f"{base}/connections", headers=bearer).json()[0]["tenantId"]
    xero = {**bearer, "xero-tenant-id": tenant}
    contact = httpx.get(f"{base}/api.xro/2.0/Contacts/NOBODY-1", headers=xero)
    assert (contact.status_code, contact.text) == (
        404,
        "The resource you're looking for cannot be found",
    )


def test_a_missing_config_file_says_how_to_make_one(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIAGNOSE_CONFIG", str(tmp_path / "nowhere.toml"))
    run = cli("learner", "123", "--profile", "college")
    assert run.code == 2
    assert f"no config file at {tmp_path / 'nowhere.toml'}, so no profile 'college'" in run.err
    assert "diagnose config init college" in run.err


def test_an_xero_url_with_the_api_path_is_refused_up_front(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = "https://api.xero.com/api.xro/2.0"
    profile(tmp_path, monkeypatch, wisenet="https://api.wisenet.co/v1", xero=base, identity=base)
    run = cli("status", "--profile", "p")
    assert run.code == 2
    assert "xero_url is the API's host alone (https://api.xero.com)" in run.err


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_config_init_writes_a_profile_from_flags_and_says_what_to_register(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "diagnose" / "config.toml"
    monkeypatch.setenv("DIAGNOSE_CONFIG", str(path))
    run = cli(
        "config", "init", "college", "--flavour", "NZ", "--xero-client-id", "XERO-APP",
        "--wisenet-client-id", "WISENET-APP", "--redirect-port", "8750",
    )  # fmt: skip
    assert run.code == 0, run.err
    assert f"profile college written to {path}" in run.out
    assert "  http://localhost:8750/callback" in run.out
    assert "diagnose connect xero --profile college" in run.out
    assert "diagnose status --profile college:" in run.out
    assert "not signed in to Xero" in run.out
    shown = cli("config", "show", "--profile", "college").out
    for setting in ("wisenet_flavour", "xero_client_id", "redirect_uri"):
        assert setting in shown
    assert "http://localhost:8750/callback" in shown
    assert "XERO-APP" in shown
    again = cli("config", "init", "college", "--xero-client-id", "X", "--wisenet-auth", "api-key")
    assert again.code == 2
    assert "profile 'college' is already in" in again.err
    custom = cli("config", "init", "other", "--xero-auth", "custom", "--wisenet-auth", "api-key",
                 "--xero-client-id", "X", "--no-status")  # fmt: skip
    assert custom.code == 0, custom.err
    assert "paid Xero add-on" in " ".join(custom.out.split())
    assert "Register this redirect URI" not in custom.out  # no sign-in through a browser
    assert "[profiles.college]" in path.read_text()  # the first profile kept as it was


def test_config_init_asks_at_a_terminal(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIAGNOSE_CONFIG", str(tmp_path / "config.toml"))
    typed = "\n".join(["tafe", "", "nz", "", "W-APP", "", "X-APP", "", ""]) + "\n"
    monkeypatch.setattr(sys, "stdin", Terminal(typed))
    run = cli("config", "init", "--no-status")
    assert run.code == 0, run.err
    assert "Profile name" in run.err
    assert "paid Xero add-on" in " ".join(run.err.split())
    assert "Register this redirect URI, exactly, in each developer portal:" in run.out
    shown = cli("config", "show", "--profile", "tafe").out
    assert "NZ" in shown
    assert "W-APP" in shown
    assert "X-APP" in shown


def test_config_init_asks_again_until_an_answer_would_do(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong answer at a terminal is said at once and asked again, instead of the whole
    set-up ending with "nothing written"; with neither a Xero PKCE app nor Wisenet's OAuth,
    nobody signs in through a browser: no port is asked, no redirect URI is to be registered."""
    path = tmp_path / "config.toml"
    path.write_text('[profiles.college]\nxero_client_id = "A"\n')
    monkeypatch.setenv("DIAGNOSE_CONFIG", str(path))
    typed = [
        "sandbox", "college", "ok-name",  # reserved, taken, then a new name
        "ftp://lrm.example/v1", "",  # not https: then the default address
        "xx", "nz",  # the flavour
        "maybe", "API-KEY",  # Wisenet's sign-in, in any case
        "foo", "Custom",  # the Xero app
        "", "X-APP",  # no client id, then one
    ]  # fmt: skip
    monkeypatch.setattr(sys, "stdin", Terminal("\n".join(typed) + "\n"))
    run = cli("config", "init", "--no-status")
    assert run.code == 0, run.err
    said = " ".join(run.err.split())
    for error in (
        "Error: letters, digits, - and _, up to 40 (not 'sandbox')",
        "has a profile 'college' already: choose another name",
        "wisenet_url 'ftp://lrm.example/v1' must be an https URL",
        "Error: one of AU, NZ, SA, SG",
        "Error: one of oauth, api-key",
        "Error: one of pkce, custom",
        "Error: the app's client id is needed",
    ):
        assert error in said
    assert "Sign-in port" not in run.err
    assert "Register this redirect URI" not in run.out
    assert "export DIAGNOSE_XERO_CLIENT_SECRET" in run.out
    written = path.read_text()
    assert '[profiles.ok-name]\nwisenet_url = "https://api.wisenet.co/v1"' in written
    for setting in ('"NZ"', '"api-key"', '"custom"', '"X-APP"'):
        assert setting in written


def test_a_web_page_answering_200_is_a_wrong_address_not_an_empty_answer() -> None:
    import asyncio

    from diagnose.errors import SourceError
    from diagnose.model import ProblemKind, Service
    from diagnose.sources.calls import CallLog
    from diagnose.sources.http import Session

    page = httpx.MockTransport(
        lambda request: httpx.Response(200, html="<html><body>Welcome</body></html>")
    )

    async def ask() -> None:
        async with Session(
            Service.WISENET, "https://lrm.example/v1", CallLog(), transport=page,
            setting="wisenet_url",
        ) as session:  # fmt: skip
            await session.get("/learnersAU", shape=lambda body: isinstance(body, list))

    with pytest.raises(SourceError) as refused:
        asyncio.run(ask())
    assert refused.value.problem.kind is ProblemKind.WRONG_ADDRESS
    assert "HTTP 200 with a web page" in str(refused.value)
    assert 'check wisenet_url = "https://lrm.example/v1" in the profile' in str(refused.value)


def test_a_token_s_lifetime_is_read_from_expires_at_too() -> None:
    from datetime import UTC, datetime, timedelta

    from diagnose.sources.oauth import as_token

    soon = datetime.now(UTC) + timedelta(minutes=10)
    for expires_at in (int(soon.timestamp()), soon.isoformat()):
        token = as_token({"access_token": "t", "expires_at": expires_at})
        assert 590 <= token.expires_in <= 600, expires_at
    assert as_token({"access_token": "t", "expires_in": 1800}).expires_in == 1800
    assert as_token({"access_token": "t"}).expires_in == 0


def test_config_init_refuses_a_setting_that_would_not_load_and_writes_nothing(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("DIAGNOSE_CONFIG", str(path))
    run = cli("config", "init", "x", "--flavour", "XX", "--xero-client-id", "A",
              "--wisenet-auth", "api-key", "--no-status")  # fmt: skip
    assert run.code == 2
    assert "wisenet_flavour is one of AU, NZ, SA, SG" in run.err
    assert "(nothing written)" in run.err
    assert not path.exists()
