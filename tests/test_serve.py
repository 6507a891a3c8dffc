"""`diagnose sandbox serve` over real loopback sockets."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from conftest import Run

from diagnose.sandbox import demo_tenant_path
from diagnose.sandbox.app import SANDBOX_API_KEY
from diagnose.sandbox.responses import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from diagnose.sandbox.tenant import load_tenant

TENANT_ID = str(load_tenant(demo_tenant_path()).tenant_id)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(
    data_dir: Path, *options: str, env: dict[str, str] | None = None, harness: bool = True
) -> Iterator[str]:
    """The sandbox served on a free loopback port, with `options`. Wisenet's 10 calls a second
    are lifted unless `options` set them: the runs of a test in this process wait on a test
    clock the server does not share (`pauses`), so their retries would meet that limit at once;
    a test of the limit, or of processes that really wait, sets `wisenet=10/s`."""
    if not any(o.strip().startswith("wisenet=") for o in options):
        options = (*options, "--rate-limit", "wisenet=100000/s")
    port = free_port()
    env = {**os.environ, "DIAGNOSE_DATA_DIR": str(data_dir), **(env or {})}
    log = data_dir / f"serve-{port}.log"  # a file, not a pipe nobody reads until the end
    with log.open("w") as errors:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "diagnose",
                "sandbox",
                "serve",
                *(["--test-harness"] if harness else []),  # /_sandbox/*, for the tests
                "--port",
                str(port),
                *options,
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert process.poll() is None, log.read_text()
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert "Traceback" not in log.read_text(), log.read_text()[-2000:]


def token(base: str, secret: str = SANDBOX_CLIENT_SECRET) -> httpx.Response:
    return httpx.post(
        f"{base}/connect/token",
        data={"grant_type": "client_credentials"},
        auth=(SANDBOX_CLIENT_ID, secret),
    )


def test_a_custom_connection_need_not_name_its_organisation(data_dir: Path) -> None:
    """As Xero's: a custom connection is bound to one organisation, so its calls may leave out
    `xero-tenant-id` (a diagnosis then asks for the invoice beside `/connections`, not after);
    naming another organisation is still refused."""
    with served(data_dir) as base:
        bound = {"Authorization": f"Bearer {token(base).json()['access_token']}"}
        invoice = httpx.get(f"{base}/api.xro/2.0/Invoices/INV-0001", headers=bound)
        assert invoice.json()["Invoices"][0]["InvoiceNumber"] == "INV-0001"
        organisation = httpx.get(f"{base}/api.xro/2.0/Organisation", headers=bound).json()
        assert organisation["Organisations"][0]["OrganisationID"] == TENANT_ID
        other = {**bound, "xero-tenant-id": "11111111-1111-1111-1111-111111111111"}
        assert httpx.get(f"{base}/api.xro/2.0/Invoices/INV-0001", headers=other).status_code == 403


def test_the_sandbox_answers_over_loopback_with_issued_tokens(data_dir: Path) -> None:
    with served(data_dir) as base:
        learner = httpx.get(f"{base}/v1/learnersAU/123", headers={"x-api-key": SANDBOX_API_KEY})
        assert learner.json()["Data"]["Personal"]["LearnerNumber"] == "STD0000123"
        assert token(base, "wrong").json() == {"error": "invalid_client"}
        issued = token(base).json()
        assert issued["expires_in"] == 1800
        bearer = {"Authorization": f"Bearer {issued['access_token']}"}
        assert httpx.get(f"{base}/connections", headers=bearer).json()[0]["tenantId"] == TENANT_ID
        assert (
            httpx.get(f"{base}/connections", headers={"Authorization": "Bearer x"}).status_code
            == 401
        )


def test_xero_limits_are_enforced_by_the_servers_clock(data_dir: Path) -> None:
    with served(data_dir, "--rate-limit", "xero=5/min") as base:
        headers = {
            "Authorization": f"Bearer {token(base).json()['access_token']}",
            "xero-tenant-id": TENANT_ID,
        }
        answers = [
            httpx.get(f"{base}/api.xro/2.0/Contacts/STD0000123", headers=headers) for _ in range(6)
        ]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert answers[-1].headers["x-rate-limit-problem"] == "minute"
    assert 1 <= int(answers[-1].headers["retry-after"]) <= 61


def _burst(base: str, calls: int, headers: dict[str, str]) -> list[int]:
    """`calls` Wisenet GETs at once (well within a second or two: whichever second they fall
    in, one holds more than 10 of 25)."""

    async def burst() -> list[int]:
        async with httpx.AsyncClient(base_url=base, headers=headers) as client:
            answers = await asyncio.gather(
                *(client.get("/v1/learnersAU/123") for _ in range(calls))
            )
        return [a.status_code for a in answers]

    return asyncio.run(burst())


def test_wisenets_calls_a_second_are_limited_per_api_key(data_dir: Path) -> None:
    key = {"x-api-key": SANDBOX_API_KEY}
    with served(data_dir, "--rate-limit", "wisenet=10/s") as base:  # Wisenet's own
        statuses = _burst(base, 25, key)
        assert statuses.count(429) >= 3
        assert statuses.count(200) >= 10
        refused = httpx.get(f"{base}/v1/learnersAU/123", headers=key)  # still this second?
        time.sleep(1.1)
        assert httpx.get(f"{base}/v1/learnersAU/123", headers=key).status_code == 200
        if refused.status_code == 429:  # as Wisenet: no word on when to come back
            assert "retry-after" not in refused.headers
    with served(data_dir, "--rate-limit", "wisenet=100/s", "--rate-limit", "xero=60/min") as base:
        assert set(_burst(base, 25, key)) == {200}


def test_latency_and_failures_can_be_injected(data_dir: Path) -> None:
    with served(data_dir, "--fail-rate", "1", "--latency-ms", "150") as base:
        started = time.monotonic()
        answer = httpx.get(f"{base}/v1/learnersAU/123", headers={"x-api-key": SANDBOX_API_KEY})
        took = time.monotonic() - started
    assert answer.status_code == 503
    assert took >= 0.15


@pytest.mark.parametrize(
    "limits",
    [
        ("lots",),
        ("wisenet=10/min",),
        ("wisenet=10/day",),
        ("xero=60/s",),
        ("xero=0/min",),
        ("xero=5/min", "xero=6/min"),
    ],
)
def test_bad_serve_options_get_one_line(cli: object, limits: tuple[str, ...]) -> None:
    options = [part for limit in limits for part in ("--rate-limit", limit)]
    run = cli("sandbox", "serve", *options)  # type: ignore[operator]
    assert run.code == 2
    assert "--rate-limit" in run.err
    assert run.err.count("\n") == 1


def test_connections_can_be_dropped_mid_answer(data_dir: Path) -> None:
    with served(data_dir, "--drop-rate", "1") as base:
        try:
            httpx.get(f"{base}/v1/learnersAU/123", headers={"x-api-key": SANDBOX_API_KEY})
        except httpx.RemoteProtocolError:
            dropped = True
        else:
            dropped = False
    assert dropped


def test_a_plain_serve_shows_nothing_the_services_do_not(data_dir: Path) -> None:
    fault = [{"method": "GET", "path": "/connections", "nth": 1, "status": 503}]
    with served(data_dir, "--faults", json.dumps(fault), harness=False) as base:
        for path in ("/_sandbox/secrets", "/_sandbox/requests"):
            assert httpx.get(f"{base}{path}").status_code == 404  # no token listing, no log
        bearer = {"Authorization": f"Bearer {token(base).json()['access_token']}"}
        assert httpx.get(f"{base}/connections", headers=bearer).status_code == 503  # the fault
        assert httpx.get(f"{base}/connections", headers=bearer).status_code == 200  # nth 1 only


def test_faults_that_are_not_a_list_are_one_line(cli: Callable[..., Run]) -> None:
    run = cli("sandbox", "serve", "--faults", "[{]")
    assert run.code == 2
    assert run.err.startswith("diagnose: --faults is not a JSON list of faults")


TICK_103 = [{"op": "replace", "path": "Personal/SyncToXero", "value": True}]
ISABELLA = "2cc82b84-3bd3-5af7-8354-a10f4c01eb5a"  # learner 108's contact, its code lost


def test_the_served_sandbox_and_other_commands_keep_each_others_writes(data_dir: Path) -> None:
    """A Contact Code fixed by a command working on the sandbox while it is served: the server
    answers with it at once, and its own next write (a learner ticked through it) keeps it."""
    env = {**os.environ, "DIAGNOSE_DATA_DIR": str(data_dir)}
    with served(data_dir) as base:
        headers = {
            "Authorization": f"Bearer {token(base).json()['access_token']}",
            "xero-tenant-id": TENANT_ID,
        }
        lost = httpx.get(f"{base}/api.xro/2.0/Contacts/STD0000108", headers=headers)
        assert lost.status_code == 404  # merged away with its code
        isabella = f"{base}/api.xro/2.0/Contacts/{ISABELLA}"
        assert httpx.get(isabella, headers=headers).status_code == 200  # as the server read it
        fixed = subprocess.run(
            [sys.executable, "-m", "diagnose", "fix", "contact-code", "learner", "108", "--yes"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert fixed.returncode == 0, fixed.stderr
        found = httpx.get(f"{base}/api.xro/2.0/Contacts/STD0000108", headers=headers)
        assert found.status_code == 200
        wisenet = {"x-api-key": SANDBOX_API_KEY}
        ticked = httpx.patch(f"{base}/v1/learnersAU/103", json=TICK_103, headers=wisenet)
        assert ticked.status_code == 200, ticked.text
        email = {"Contacts": [{"ContactID": ISABELLA, "EmailAddress": "isabella@new.example"}]}
        changed = httpx.post(isabella, json=email, headers=headers)  # the contact fixed meanwhile
        assert changed.status_code == 200, changed.text
    kept = json.loads((data_dir / "sandbox" / "demo.json").read_text())
    learner = next(x for x in kept["wisenet"]["learners"] if x["LearnerId"] == 103)
    assert learner["Personal"]["SyncToXero"] is True
    contact = next(c for c in kept["xero"]["contacts"] if c["ContactID"] == ISABELLA)
    assert contact["ContactNumber"] == "STD0000108"  # the command's write
    assert contact["EmailAddress"] == "isabella@new.example"  # and the server's, on top of it


def test_a_write_to_the_served_sandbox_waits_its_turn(data_dir: Path) -> None:
    """Another command holds the sandbox for a second and a half: the server's write waits for
    it, then is made; past a minute it would be refused with a 503 (below, without the wait)."""
    from diagnose import runner

    with served(data_dir) as base:
        lock = runner.writer_lock(demo_tenant_path(), demo=True).lock_file
        hold = "import sys, time; from filelock import FileLock; held = FileLock(sys.argv[1]); "
        hold += "held.acquire(); "
        hold += "print('held', flush=True); time.sleep(1.5)"
        with subprocess.Popen(
            [sys.executable, "-c", hold, lock],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "DIAGNOSE_DATA_DIR": str(data_dir)},
        ) as holder:
            assert holder.stdout is not None
            assert holder.stdout.readline() == "held\n"
            asked = time.monotonic()
            wisenet = {"x-api-key": SANDBOX_API_KEY}
            ticked = httpx.patch(
                f"{base}/v1/learnersAU/103", json=TICK_103, headers=wisenet, timeout=30
            )
            waited = time.monotonic() - asked
            assert holder.wait(timeout=10) == 0
    assert ticked.status_code == 200, ticked.text
    assert waited >= 1.0  # it did not write while the other held the sandbox


def test_a_write_refused_its_turn_is_a_503_with_the_reason() -> None:
    from contextlib import asynccontextmanager

    from diagnose.errors import UsageError
    from diagnose.sandbox.serve import TakingTurns

    reached: list[str] = []

    async def app(scope: object, receive: object, send: object) -> None:
        reached.append("app")

    @asynccontextmanager
    async def kept_all_along() -> Iterator[None]:  # type: ignore[misc]
        raise UsageError("another diagnose command has been changing this sandbox for over 60 s")
        yield

    async def patch() -> httpx.Response:
        transport = httpx.ASGITransport(app=TakingTurns(app, lambda: None, kept_all_along))
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            return await client.patch("/v1/learnersAU/103", json=TICK_103)

    answer = asyncio.run(patch())
    assert answer.status_code == 503
    assert "changing this sandbox" in answer.json()["Message"]
    assert reached == []  # nothing written
