"""What the scan benchmarks share: a free loopback port, waiting for `diagnose sandbox serve` to
answer on it, the CPU of one `json.loads` of a tenant file (in a process of its own, so the
caller's peak memory stays its own), and renaming learners on the served Wisenet."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

LOADS = (
    "import json, sys, time; data = open(sys.argv[1], 'rb').read(); t = time.process_time(); "
    "json.loads(data); print(time.process_time() - t)"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_served(port: int) -> None:
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)


def json_loads_cpu(path: Path) -> float:
    done = subprocess.run(
        [sys.executable, "-c", LOADS, str(path)], check=True, capture_output=True, text=True
    )
    return float(done.stdout)


def rename_learners(base: str, count: int, api_key: str) -> int:
    """Rename the first `count` learners of the Wisenet served at `base` (`PATCH`, as a person
    editing them in Wisenet would); how many were renamed."""
    import httpx

    headers = {"x-api-key": api_key, "content-type": "application/json"}
    # the sandbox writes its whole working copy at each change: seconds at 50,000 learners
    with httpx.Client(base_url=f"{base}/v1", headers=headers, timeout=300) as client:
        learners = client.get("/learnersAU", params={"skip": 0, "take": count}).json()
        for item in learners:
            data = item.get("Data", item)
            ops = [{"op": "replace", "path": "Personal/FirstName", "value": "Renamed"}]
            client.patch(f"/learnersAU/{data['LearnerId']}", json=ops).raise_for_status()
    return len(learners)
