"""What the scan benchmarks share: a free loopback port, waiting for `diagnose sandbox serve` to
answer on it, and the CPU of one `json.loads` of a tenant file (in a process of its own, so the
caller's peak memory stays its own)."""

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
