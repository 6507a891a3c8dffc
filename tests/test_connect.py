"""Signing in to Xero with PKCE against `diagnose sandbox serve`, the test playing the browser."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from conftest import Run
from test_serve import free_port, served

from diagnose.sandbox.responses import SANDBOX_API_KEY, SANDBOX_CLIENT_ID


@pytest.fixture
def web_profile(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, dict[str, str]]]:
    redirect = f"http://localhost:{free_port()}/callback"  # registered for the demo client
    with served(data_dir, "--redirect-uri", redirect) as base:
        config = tmp_path / "config.toml"
        config.write_text(
            "[profiles.web]\n"
            f'wisenet_url = "{base}/v1"\nxero_url = "{base}"\n'
            f'xero_identity_url = "{base}"\nxero_login_url = "{base}"\n'
            f'xero_auth = "pkce"\nxero_client_id = "{SANDBOX_CLIENT_ID}"\n'
            f'redirect_uri = "{redirect}"\n'
        )
        env = {
            "DIAGNOSE_CONFIG": str(config),
            "DIAGNOSE_WISENET_API_KEY": SANDBOX_API_KEY,
            "DIAGNOSE_KEYRING": "0",
            "DIAGNOSE_DATA_DIR": str(data_dir),
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        yield base, env


def sign_in(env: dict[str, str], service: str = "xero", *extra: str) -> tuple[int, str, str]:
    """Run `diagnose connect SERVICE` and play the browser: follow the address it prints."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "diagnose",
            "connect",
            service,
            "--profile",
            "web",
            "--no-browser",
            "--timeout",
            "30",
            *extra,
        ],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    address = ""
    for line in process.stderr:
        if line.startswith("http"):
            address = line.strip()
            break
    page = httpx.get(address, follow_redirects=True, timeout=10)
    assert page.text.startswith(f"Signed in to {'Xero' if service == 'xero' else 'Wisenet'}")
    out, err = process.communicate(timeout=30)
    return process.returncode, out, err


def findings(run: Run) -> list[tuple[str, str, str]]:
    return [
        (f["id"], f["status"], f["message"])
        for f in run.json()["findings"]
        if f["id"] != "alerts.clear"
    ]


def test_sign_in_then_diagnose_with_rotating_tokens(
    cli: Callable[..., Run], web_profile: tuple[str, dict[str, str]], data_dir: Path
) -> None:
    _base, env = web_profile
    code, out, _ = sign_in(env)
    assert code == 0
    assert "profile web is signed in to Xero: Demo RTO Pty Ltd" in out
    token_file = data_dir / "tokens" / "web.json"
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"
    first_token = json.loads(token_file.read_text())["refresh_token"]
    sandbox = cli("learner", "123", "--json", "--profile", "sandbox")
    live = cli("learner", "123", "--json", "--profile", "web")
    assert live.code == 1, live.err
    assert findings(live) == findings(sandbox)
    second_token = json.loads(token_file.read_text())["refresh_token"]
    assert second_token != first_token  # rotated, and stored
    again = cli("learner", "123", "--json", "--profile", "web")
    assert again.code == 1, again.err
    for run in (live, again):
        assert first_token not in run.out + run.err
        assert second_token not in run.out + run.err


def test_two_processes_refreshing_at_once_both_keep_working(
    web_profile: tuple[str, dict[str, str]],
) -> None:
    _, env = web_profile
    assert sign_in(env)[0] == 0
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "diagnose", "learner", "101", "--profile", "web"],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [(p.wait(timeout=60), *p.communicate()) for p in runs]
    assert [code for code, _, _ in results] == [0, 0, 0], results


def test_a_lost_refresh_answer_is_recovered_within_the_grace_period(
    cli: Callable[..., Run], web_profile: tuple[str, dict[str, str]], data_dir: Path
) -> None:
    base, env = web_profile
    assert sign_in(env)[0] == 0
    stored = json.loads((data_dir / "tokens" / "web.json").read_text())["refresh_token"]
    lost = httpx.post(
        f"{base}/connect/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": stored,
            "client_id": SANDBOX_CLIENT_ID,
        },
    )
    assert lost.status_code == 200  # rotated on the server; the answer never reached us
    run = cli("learner", "101", "--profile", "web")
    assert run.code == 0, run.err


def test_disconnect_revokes_and_forgets(
    cli: Callable[..., Run], web_profile: tuple[str, dict[str, str]], data_dir: Path
) -> None:
    base, env = web_profile
    assert sign_in(env)[0] == 0
    stored = json.loads((data_dir / "tokens" / "web.json").read_text())["refresh_token"]
    run = cli("disconnect", "xero", "--profile", "web")
    assert "signed out of Demo RTO Pty Ltd" in run.out
    assert not (data_dir / "tokens" / "web.json").exists()
    reuse = httpx.post(
        f"{base}/connect/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": stored,
            "client_id": SANDBOX_CLIENT_ID,
        },
    )
    assert reuse.json() == {"error": "invalid_grant"}
    after = cli("learner", "101", "--profile", "web")
    assert after.code == 2
    assert "not signed in to Xero: run 'diagnose connect xero --profile web'" in after.err


def test_connect_wisenet_keeps_a_checked_api_key(
    web_profile: tuple[str, dict[str, str]], data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, env = web_profile
    env = {k: v for k, v in env.items() if k != "DIAGNOSE_WISENET_API_KEY"}
    monkeypatch.delenv("DIAGNOSE_WISENET_API_KEY")

    def connect(key: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "diagnose",
                "connect",
                "wisenet",
                "--profile",
                "web",
                "--api-key-stdin",
            ],
            input=key + "\n",
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=False,
        )

    refused = connect("not-the-key")
    assert refused.returncode == 3
    assert "Wisenet refused our credentials" in refused.stderr
    assert not (data_dir / "tokens" / "web.wisenet-api-key").exists()
    accepted = connect(SANDBOX_API_KEY)
    assert accepted.returncode == 0, accepted.stderr
    assert SANDBOX_API_KEY not in accepted.stdout + accepted.stderr
    stored = data_dir / "tokens" / "web.wisenet-api-key"
    assert oct(stored.stat().st_mode & 0o777) == "0o600"
    assert sign_in(env)[0] == 0
    run = subprocess.run(
        [sys.executable, "-m", "diagnose", "learner", "101", "--profile", "web"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr  # no key in the environment: the kept one is used


def test_wisenet_sign_in_replaces_the_api_key(
    cli: Callable[..., Run], web_profile: tuple[str, dict[str, str]], data_dir: Path
) -> None:
    base, env = web_profile
    config = Path(env["DIAGNOSE_CONFIG"])
    config.write_text(
        config.read_text()
        + f'wisenet_auth = "oauth"\nwisenet_auth_url = "{base}"\n'
        + f'wisenet_client_id = "{SANDBOX_CLIENT_ID}"\n'
    )
    env = {k: v for k, v in env.items() if k != "DIAGNOSE_WISENET_API_KEY"}
    code, out, err = sign_in(env, "wisenet")
    assert code == 0, err
    assert "profile web is signed in to Wisenet" in out
    assert sign_in(env, "xero")[0] == 0
    clean = {k: v for k, v in os.environ.items() if k != "DIAGNOSE_WISENET_API_KEY"}
    run = subprocess.run(
        [sys.executable, "-m", "diagnose", "learner", "123", "--profile", "web", "--json"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1, run.stderr
    sandbox = cli("learner", "123", "--json", "--profile", "sandbox")
    live = Run(run.returncode, run.stdout, run.stderr)
    assert findings(live) == findings(sandbox)  # both services signed in, over real sockets
    assert (data_dir / "tokens" / "web.wisenet.json").exists()


def first_address(env: dict[str, str], *extra: str) -> tuple[str, subprocess.Popen[str]]:
    """Start `diagnose connect xero --no-browser` and read the sign-in address it prints."""
    process = subprocess.Popen(
        [sys.executable, "-m", "diagnose", "connect", "xero", "--profile", "web", "--no-browser",
         "--timeout", "2", *extra],
        env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    address = next(line.strip() for line in process.stderr if line.startswith("http"))
    return address, process


def test_the_sign_in_always_comes_back_to_the_same_registered_localhost_address(
    web_profile: tuple[str, dict[str, str]],
) -> None:
    _base, env = web_profile
    config = Path(env["DIAGNOSE_CONFIG"])
    config.write_text(  # no redirect_uri set: the default, which the sandbox registers
        "\n".join(line for line in config.read_text().splitlines() if "redirect_uri" not in line)
    )
    seen = []
    for _ in range(2):
        address, process = first_address(env)
        process.communicate(timeout=30)
        assert process.returncode == 2  # nobody signed in within --timeout
        seen.append(httpx.URL(address).params["redirect_uri"])
    assert seen == ["http://localhost:8749/callback"] * 2


def test_a_redirect_uri_not_registered_for_the_app_is_refused_as_xero_does(
    web_profile: tuple[str, dict[str, str]],
) -> None:
    _base, env = web_profile
    address, process = first_address(env, "--redirect-port", str(free_port()))
    page = httpx.get(address, follow_redirects=False, timeout=10)
    assert page.status_code == 400
    assert page.json() == {
        "error": "unauthorized_client",
        "error_description": "Invalid redirect_uri",
    }
    _, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "no sign-in arrived within 2 s; nothing was stored" in err


def test_a_confidential_wisenet_app_signs_in_with_its_secret(
    web_profile: tuple[str, dict[str, str]],
) -> None:
    base, env = web_profile
    config = Path(env["DIAGNOSE_CONFIG"])
    config.write_text(
        config.read_text()
        + f'wisenet_auth = "oauth"\nwisenet_auth_url = "{base}"\n'
        + f'wisenet_client_id = "{SANDBOX_CLIENT_ID}"\nwisenet_scopes = "learners.read"\n'
    )
    wrong = {**env, "DIAGNOSE_WISENET_CLIENT_SECRET": "not-the-secret"}
    code, _, err = sign_in(wrong, "wisenet")
    assert code == 3
    assert "Wisenet refused our credentials (invalid_client)" in err
    assert "not-the-secret" not in err
    right = {**env, "DIAGNOSE_WISENET_CLIENT_SECRET": "sandbox-client-secret"}
    code, _, err = sign_in(right, "wisenet")
    assert code == 0, err
    assert sign_in(right, "xero")[0] == 0
    status = subprocess.run(
        [sys.executable, "-m", "diagnose", "status", "--profile", "web"],
        env={**os.environ, **right}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "the sign-in is accepted" in status.stdout, status.stdout + status.stderr
