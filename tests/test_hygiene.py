"""Architecture rules a test can hold: what `--help` loads, and where httpx may be imported."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import ROOT

HEAVY = ("textual", "docx", "docxtpl", "jinja2")


def _modules_loaded_by(*argv: str) -> set[str]:
    probe = (
        "import sys\n"
        f"sys.argv = ['diagnose', *{list(argv)!r}]\n"
        "from diagnose.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(m.split('.')[0] for m in sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(done.stderr.split())


def test_help_does_not_load_the_tui_the_word_renderer_or_the_network_stack() -> None:
    loaded = _modules_loaded_by("--help")
    assert not loaded & {*HEAVY, "httpx", "starlette"}


def test_offline_commands_load_no_network_stack_no_tui_and_no_word_renderer(
    data_dir: object,
) -> None:
    for argv in (("checks",), ("audit",), ("config", "show"), ("sandbox", "reset")):
        loaded = _modules_loaded_by(*argv)
        assert not loaded & {*HEAVY, "httpx", "starlette", "uvicorn", "anyio"}, argv


def test_a_diagnosis_does_not_load_the_tui_or_the_word_renderer() -> None:
    assert not _modules_loaded_by("learner", "123") & set(HEAVY)


def test_httpx_is_imported_by_exactly_one_module_of_ours() -> None:
    importers = [
        path.relative_to(ROOT).as_posix()
        for folder in ("diagnose", "checks")
        for path in (ROOT / folder).rglob("*.py")
        if re.search(r"^\s*(import httpx|from httpx)", path.read_text(), re.M)
    ]
    assert importers == ["diagnose/sources/http.py"]


def test_checks_do_no_io() -> None:
    forbidden = re.compile(
        r"^\s*(import|from) (httpx|diagnose\.sources|asyncio|socket)\b|print\(", re.M
    )
    offenders = [
        path.name for path in (ROOT / "checks").glob("*.py") if forbidden.search(path.read_text())
    ]
    assert offenders == []


def test_textual_lives_only_in_the_tui_and_docx_only_in_the_word_renderer() -> None:
    def importers(pattern: str) -> set[str]:
        return {
            path.relative_to(ROOT).as_posix()
            for folder in ("diagnose", "checks")
            for path in (ROOT / folder).rglob("*.py")
            if re.search(pattern, path.read_text(), re.M)
        }

    assert {
        p for p in importers(r"^\s*(import|from) textual\b") if not p.startswith("diagnose/tui/")
    } == set()
    assert importers(r"^\s*(import|from) (docx|docxtpl)\b") == {"diagnose/render/word.py"}


def test_no_module_is_over_400_lines() -> None:
    long = {
        path.relative_to(ROOT).as_posix(): lines
        for folder in ("diagnose", "checks")
        for path in (ROOT / folder).rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}  # split by concept, not by size: see DESIGN.md's layers


def test_files_are_written_one_way() -> None:
    """Every file diagnose writes goes through paths.write_atomically (temp name, flush, rename)."""
    renames = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "diagnose").rglob("*.py")
        if re.search(r"\.partial|os\.replace\(|\.replace\(path\)", path.read_text(encoding="utf-8"))
    }
    assert renames == {"diagnose/paths.py"}


def test_the_remedies_read_records_not_the_checks_words() -> None:
    """A remedy decides on typed records (diagnose.lookalikes), never on a finding's evidence
    dict, which is written for people and may change."""
    readers = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "diagnose" / "remedy").rglob("*.py")
        if re.search(r"\.evidence(\.get\(|\[)", path.read_text(encoding="utf-8"))
    }
    assert readers == set()


def test_the_walkthrough_opens_without_the_network_stack() -> None:
    """Its start screen comes up before anything is asked of a service: the clients load with
    the first lookup."""
    probe = (
        "import sys\nfrom diagnose.tui.app import DiagnoseApp\n"
        "print(' '.join(sorted(m.split('.')[0] for m in sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert not set(done.stderr.split()) & {"httpx", "starlette", "anyio", "docx"}
