"""Issue 19's quick check, through the real command: a generated tenant served by
`diagnose sandbox serve`, scanned by `diagnose scan --profile quick` (a live profile, over
loopback sockets) three times, each scan a process of its own: from nothing, again with nothing
changed, and after 10 learners were renamed in the served Wisenet.

    python bench/quick.py [--learners 10000] [--seed 1]

Printed: the CPU of one `json.loads` of the tenant file (a process of its own); each scan's CPU
and peak memory (its process alone), the first as a multiple of that `json.loads`, and the
second and third as shares of the first, with what the third says it checked again. Targets: at
most 10× the `json.loads`, at most 200 MB, the second scan at most 20 % of the first. This
script reports; it does not judge.
"""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from installed import ENV
from served import free_port, json_loads_cpu, rename_learners, wait_until_served

from diagnose.sandbox.responses import SANDBOX_API_KEY, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET

PROBE = (
    "import atexit, resource, sys\n"
    "def said():\n"
    "    u = resource.getrusage(resource.RUSAGE_SELF)\n"
    "    print('PROBE', u.ru_utime + u.ru_stime, u.ru_maxrss / 1024, file=sys.stderr)\n"
    "atexit.register(said)\n"
    "sys.argv = ['diagnose', *sys.argv[1:]]\n"
    "from diagnose.cli import main\n"
    "main()\n"
)


def measured(arguments: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """CPU seconds and peak MB of one `diagnose` process (its own, from inside it), and what it
    says of the findings it kept."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *arguments], env=env, capture_output=True, text=True
    )
    if done.returncode not in (0, 1):  # 1: the scan found problems, as a generated tenant has
        raise SystemExit(
            f"diagnose {' '.join(arguments)} exited {done.returncode}: {done.stderr[-400:]}"
        )
    probe = next(line for line in done.stderr.splitlines() if line.startswith("PROBE "))
    _, cpu, peak = probe.split()
    said = re.findall(r"^note: .*(?:\n {6}.*)*", done.stderr, re.MULTILINE)  # cut to width
    return float(cpu), float(peak), " ".join(" ".join(n.split()) for n in said) or "(no note)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        tenant = base / "tenant.json"
        subprocess.run(
            [sys.executable, "-m", "diagnose", "sandbox", "generate", "--learners",
             str(args.learners), "--seed", str(args.seed), "--output", str(tenant)],
            check=True, capture_output=True,
        )  # fmt: skip
        loads = json_loads_cpu(tenant)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        config = base / "config.toml"
        config.write_text(
            "[profiles.quick]\n"
            f'wisenet_url = "{url}/v1"\n'
            f'xero_url = "{url}"\n'
            f'xero_identity_url = "{url}"\n'
            f'xero_client_id = "{SANDBOX_CLIENT_ID}"\n',
            encoding="utf-8",
        )
        env = {
            **ENV,  # the server, started first, writes diagnose's bytecode for the scans
            "DIAGNOSE_CONFIG": str(config),
            "DIAGNOSE_DATA_DIR": str(base / "data"),
            "DIAGNOSE_CACHE_DIR": str(base / "cache"),
            "DIAGNOSE_WISENET_API_KEY": SANDBOX_API_KEY,
            "DIAGNOSE_XERO_CLIENT_SECRET": SANDBOX_CLIENT_SECRET,
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "diagnose", "sandbox", "serve", "--port", str(port),
             "--sandbox", str(tenant), "--rate-limit", "xero=10000/min", "--concurrent", "50",
             "--rate-limit", "wisenet=100000/s"],  # the renames do not pace themselves
            env={**env, "DIAGNOSE_DATA_DIR": str(base / "server")},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_until_served(port)
            scan = ["scan", "--profile", "quick"]
            first = measured(scan, env)
            second = measured(scan, env)
            rename_learners(url, 10, SANDBOX_API_KEY)
            third = measured(scan, env)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
    print(f"{args.learners} learners; json.loads of the tenant file: {loads:.2f} s CPU")
    print(f"first scan:  {first[0]:5.2f} s CPU ({first[0] / loads:4.1f}x), peak {first[1]:.0f} MB")
    print(
        f"second scan: {second[0]:5.2f} s CPU ({100 * second[0] / first[0]:3.0f} % of the "
        f"first), peak {second[1]:.0f} MB"
    )
    print(
        f"third scan, 10 learners renamed: {third[0]:5.2f} s CPU ({100 * third[0] / first[0]:3.0f}"
        f" % of the first), peak {third[1]:.0f} MB"
    )
    print(f"the second scan said: {second[2]}")
    print(f"the third: {third[2]}")


if __name__ == "__main__":
    main()
