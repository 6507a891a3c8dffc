"""Secrets and personal data. Every command runs with every credential in play — a Xero client
secret, a Wisenet API key, a PKCE sign-in with its rotating refresh tokens, and every access
token and code the server hands out — and none of them may appear in any output, log, audit
entry, journal, cache, snapshot or document. Token files are private. TLS is verified always:
only a CA bundle can widen trust. `--redact` leaves no person in anything it prints or writes."""

from __future__ import annotations

import os
import ssl
import stat
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from conftest import FIGURES, Run
from docx import Document
from test_connect import sign_in
from test_profiles import SECRET_ENV
from test_serve import free_port, served

from diagnose.model import SubjectKind
from diagnose.sandbox import demo_tenant_path
from diagnose.sandbox.app import create_app
from diagnose.sandbox.responses import SANDBOX_API_KEY, SANDBOX_CLIENT_ID, SANDBOX_TOKEN
from diagnose.sandbox.tenant import load_tenant
from diagnose.tui.app import DiagnoseApp
from diagnose.tui.dialogs import FileNameScreen

PRIVATE = ("tokens",)  # where a sign-in is kept, by design (0600), when there is no keyring


def texts_under(folder: Path) -> dict[str, str]:
    """Every file below `folder` as text; Word documents as the XML inside them."""
    found: dict[str, str] = {}
    for path in folder.rglob("*"):
        if not path.is_file() or path.relative_to(folder).parts[0] in PRIVATE:
            continue
        if path.suffix == ".docx":
            with zipfile.ZipFile(path) as package:
                for name in package.namelist():
                    found[f"{path}!{name}"] = package.read(name).decode("utf-8", "replace")
        else:
            found[str(path)] = path.read_bytes().decode("utf-8", "replace")
    return found


def test_no_credential_reaches_any_output_file_or_document(
    cli: Callable[..., Run], data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    redirect = f"http://localhost:{free_port()}/callback"
    with served(data_dir, "--redirect-uri", redirect) as base:
        config = tmp_path / "config.toml"
        config.write_text(
            "[profiles.local]\n"
            f'wisenet_url = "{base}/v1"\nxero_url = "{base}"\nxero_identity_url = "{base}"\n'
            f'xero_client_id = "{SANDBOX_CLIENT_ID}"\n\n'
            "[profiles.web]\n"
            f'wisenet_url = "{base}/v1"\nxero_url = "{base}"\nxero_identity_url = "{base}"\n'
            f'xero_login_url = "{base}"\nxero_auth = "pkce"\n'
            f'xero_client_id = "{SANDBOX_CLIENT_ID}"\nredirect_uri = "{redirect}"\n'
        )
        env = {"DIAGNOSE_CONFIG": str(config), "DIAGNOSE_KEYRING": "0", **SECRET_ENV}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        sub = {**env, "DIAGNOSE_DATA_DIR": str(data_dir)}
        outputs = ["".join(sign_in(sub)[1:])]  # PKCE through the loopback listener
        key = subprocess.run(
            [sys.executable, "-m", "diagnose", "connect", "wisenet", "--profile", "web",
             "--api-key-stdin"],
            input=SANDBOX_API_KEY + "\n", capture_output=True, text=True, timeout=60,
            env={**os.environ, **sub, "DIAGNOSE_WISENET_API_KEY": ""},
        )  # fmt: skip
        assert key.returncode == 0, key.stderr
        outputs.append(key.stdout + key.stderr)
        commands = [
            ("learner", "123", "--json", "--save", str(out / "snap.json")),
            ("learner", "123", "-v", "--report", str(out / "learner.docx")),
            ("invoice", "INV-0042", "-v", "--report", str(out / "invoice.docx")),
            ("scan", "--json"),
            ("scan", "--csv", str(out / "scan.csv"), "--report", str(out / "scan.docx")),
            ("status",),
            ("config", "show"),
        ]
        runs = [cli(*args, "--profile", p) for p in ("local", "web") for args in commands]
        runs += [
            cli("replay", str(out / "snap.json"), "-v", "--report", str(out / "replay.docx")),
            cli("checks", "--json"),
            cli("resync", "learner", "103", "--yes"),
            cli("fix", "contact-code", "learner", "108", "--yes"),
            cli("resync", "--recover"),
            cli("audit", "--json"),
            cli("sandbox", "reset"),
            cli("disconnect", "xero", "--profile", "web"),
            cli("disconnect", "wisenet", "--profile", "web"),
        ]
        handed_out = httpx.get(f"{base}/_sandbox/secrets").json()
    assert [r for r in runs if r.code not in (0, 1)] == []
    outputs += [run.out + run.err for run in runs]
    files = {**texts_under(data_dir), **texts_under(out)}
    secrets = [*SECRET_ENV.values(), *handed_out]
    assert len(handed_out) >= 10  # codes, access and refresh tokens of both sign-ins
    leaks = [
        (secret[:6] + "…", where)
        for secret in secrets
        for where, text in [*enumerate(outputs), *files.items()]
        if secret in text
    ]
    leaks += [
        ("a header", where)
        for where, text in [*enumerate(outputs), *files.items()]
        if "Bearer " in text or "x-api-key" in text
    ]
    FIGURES["secrets"] = (
        f"{len(secrets)} secrets (client secret, API key, {len(handed_out)} codes and tokens "
        f"handed out) searched in {len(outputs)} outputs and {len(files)} files: "
        f"{len(leaks)} found"
    )
    assert leaks == []


def test_token_and_key_files_are_private(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from diagnose.tokens import Grant, SecretStore, Store

    monkeypatch.setenv("DIAGNOSE_KEYRING", "0")  # no keyring: the files are all there is
    Store("web").save(Grant("refresh-sentinel", "tenant", "Demo", "scope"))
    SecretStore("web", "wisenet-api-key").save("key-sentinel")
    stored = [p for p in (data_dir / "tokens").iterdir() if not p.name.endswith(".lock")]
    assert len(stored) == 2
    for path in stored:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE((data_dir / "tokens").stat().st_mode) & 0o077 == 0


async def test_the_tuis_report_holds_no_sandbox_credential(tmp_path: Path) -> None:
    app = DiagnoseApp(kind=SubjectKind.LEARNER, ref="123")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, FileNameScreen)
        app.screen.query_one("#filename").value = str(tmp_path / "tui.docx")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
    written = texts_under(tmp_path)
    assert written
    for secret in (SANDBOX_API_KEY, SANDBOX_TOKEN, "Bearer "):
        assert not [w for w, t in written.items() if secret in t], secret


# -- TLS ----------------------------------------------------------------------------------------


@contextmanager
def tls_sandbox(folder: Path) -> Iterator[tuple[str, Path]]:
    """The sandbox over https on loopback, its certificate from a CA of our own."""
    import trustme
    import uvicorn

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert_file, key_file, ca_file = folder / "cert.pem", folder / "key.pem", folder / "ca.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    ca.cert_pem.write_to_path(str(ca_file))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(load_tenant(demo_tenant_path())),
            host="127.0.0.1",
            port=port,
            ssl_certfile=str(cert_file),
            ssl_keyfile=str(key_file),
            log_level="warning",
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"https://127.0.0.1:{port}", ca_file
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_tls_is_verified_and_only_a_ca_bundle_widens_trust(
    cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in SECRET_ENV.items():
        monkeypatch.setenv(key, value)
    config = tmp_path / "config.toml"
    monkeypatch.setenv("DIAGNOSE_CONFIG", str(config))

    def profile(base: str, extra: str = "") -> None:
        config.write_text(
            f'[profiles.tls]\nwisenet_url = "{base}/v1"\nxero_url = "{base}"\n'
            f'xero_identity_url = "{base}"\nxero_client_id = "{SANDBOX_CLIENT_ID}"\n{extra}'
        )

    with tls_sandbox(tmp_path) as (base, ca_file):
        profile(base)
        untrusted = cli("learner", "123", "--profile", "tls")
        profile(base, f'ca_bundle = "{ca_file}"\n')
        trusted = cli("learner", "123", "--profile", "tls", "--json")
    assert untrusted.code == 3
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.err or "certificate" in untrusted.err
    assert untrusted.err.count("\n") == 1
    assert trusted.code == 1, trusted.err
    assert trusted.json()["mode"] == "live"
    # there is no switch to turn verification off, and a bundle must be a real file
    for extra, said in (
        ("verify = false\n", "unknown setting 'verify'"),
        ("tls_verify = false\n", "unknown setting 'tls_verify'"),
        ('ca_bundle = "/nonexistent/ca.pem"\n', "ca_bundle '/nonexistent/ca.pem' is not a file"),
        ("timeout = 0\n", "timeout '0' must be seconds from 0.1 to 600"),
        ('max_wait = "a while"\n', "max_wait 'a while' must be seconds from 0 to 3600"),
    ):
        profile("https://127.0.0.1:9", extra)
        run = cli("learner", "123", "--profile", "tls")
        assert run.code == 2
        assert said in run.err
    (tmp_path / "junk.pem").write_text("not a certificate")
    profile("https://127.0.0.1:9", f'ca_bundle = "{tmp_path / "junk.pem"}"\n')
    run = cli("learner", "123", "--profile", "tls")
    assert (run.code, run.err.count("\n")) == (2, 1)
    assert "is not a readable PEM file of CAs" in run.err
    assert ssl.create_default_context().verify_mode is ssl.CERT_REQUIRED


# -- --redact -----------------------------------------------------------------------------------


def people(learner_id: int) -> list[str]:
    """What identifies learner `learner_id` in the demo tenant: names, email, phone, street."""
    import json

    document = json.loads(demo_tenant_path().read_text())
    data = next(x for x in document["wisenet"]["learners"] if x["LearnerId"] == learner_id)
    personal = data["Personal"]
    street = personal.get("StreetAddress") or {}
    found = [
        personal["FirstName"],
        personal["LastName"],
        (personal.get("EmailAddresses") or {}).get("Email", ""),
        (personal.get("PhoneNumbers") or {}).get("Mobile", ""),
        f"{street.get('StreetNumber', '')} {street.get('StreetName', '')}".strip(),
    ]
    return [v for v in found if v and len(v) > 2]


REDACTED_SUBJECTS = [
    (("learner", "123"), 123),
    (("learner", "116"), 116),
    (("invoice", "INV-0042"), 123),
    (("learner", "Jane Citizen"), 123),
]


@pytest.mark.parametrize(("subject", "learner_id"), REDACTED_SUBJECTS)
def test_redact_leaves_no_person_in_anything_printed_or_written(
    cli: Callable[..., Run], tmp_path: Path, subject: tuple[str, str], learner_id: int
) -> None:
    document = tmp_path / "ticket.docx"
    runs = [
        cli(*subject, "--redact"),
        cli(*subject, "--redact", "-v"),
        cli(*subject, "--redact", "--json"),
        cli(*subject, "--redact", "--report", str(document)),
    ]
    assert {r.code for r in runs} <= {0, 1}, runs[0].err
    everything = [r.out + r.err for r in runs] + list(texts_under(tmp_path).values())
    for real in people(learner_id):
        assert not [t for t in everything if real.casefold() in t.casefold()], real
    assert "Person A" in runs[0].out
    assert "STD0000" in runs[0].out  # ids stay: support needs them
    text = "\n".join(p.text for p in Document(str(document)).paragraphs)
    assert "Redacted:" in text


def test_a_snapshot_cannot_be_redacted_so_it_is_refused(
    cli: Callable[..., Run], tmp_path: Path
) -> None:
    run = cli("learner", "123", "--redact", "--save", str(tmp_path / "snap.json"))
    assert run.code == 2
    assert "cannot be redacted" in run.err
    assert not (tmp_path / "snap.json").exists()
