"""Print what a whole-tenant scan costs, against `diagnose sandbox serve` on loopback.

    python bench/scan.py [--sizes 1000,10000] [--seed 1]

For each size: a generated tenant is served on a free loopback port; the scan runs in this
process through a live profile (a custom connection), over real sockets. Printed: API calls by
service, sequential rounds, wall time, CPU time and peak memory of the scan, how long the same
calls take at Xero's 60 a minute, and the calls the naive per-learner approach would make.
Targets (10,000 learners, ~30,000 invoices): under 10 s CPU and 500 MB beyond the network time.
This script reports; it does not judge.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from diagnose import engine, scan
from diagnose.config import Profile
from diagnose.sandbox.generate import generate
from diagnose.sandbox.responses import SANDBOX_API_KEY, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from diagnose.sources.bulk import Bulk
from diagnose.sources.live import live_sources


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure(size: int, seed: int, folder: Path) -> None:
    tenant, _ = generate(size, seed)
    path = folder / f"tenant-{size}.json"
    path.write_text(json.dumps(tenant))
    port = free_port()
    env = {**os.environ, "DIAGNOSE_DATA_DIR": str(folder / "data")}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "diagnose",
            "sandbox",
            "serve",
            "--port",
            str(port),
            "--sandbox",
            str(path),
            "--rate-limit",
            "xero=10000/min",
            "--concurrent",
            "50",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        os.environ["DIAGNOSE_WISENET_API_KEY"] = SANDBOX_API_KEY
        os.environ["DIAGNOSE_XERO_CLIENT_SECRET"] = SANDBOX_CLIENT_SECRET
        profile = Profile(
            "bench",
            wisenet_url=f"{base}/v1",
            xero_url=base,
            xero_identity_url=base,
            xero_client_id=SANDBOX_CLIENT_ID,
        )

        cache_path = folder / f"cache-{size}"

        async def fetch() -> tuple[Bulk, list]:  # type: ignore[type-arg]
            async with live_sources(profile) as sources:
                cache = scan.Cache.load(cache_path)
                return await scan.fetch(sources, cache=cache), sources.log.calls

        wall = time.perf_counter()
        cpu = time.process_time()
        bulk, calls = asyncio.run(fetch())
        fetched = time.perf_counter() - wall
        findings = list(
            scan.diagnose_all(
                bulk, engine.load_catalogue(), mode="live", tenant="bench", calls=calls
            )
        )
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - wall
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the re-scan
        rescan_started = time.perf_counter()
        _, rescan_calls = asyncio.run(fetch())  # nothing changed: one call a resource
        rescan = time.perf_counter() - rescan_started
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    by_service = Counter(c.service.value for c in calls)
    xero_calls = by_service["xero"]
    rounds = max(c.round for c in calls)
    print(
        f"{size:>7} learners {len(bulk.invoices):>7} invoices | calls {len(calls):>4} "
        f"(wisenet {by_service['wisenet']}, xero {xero_calls}) rounds {rounds} | "
        f"wall {wall:6.2f} s "
        f"(fetch {fetched:5.2f} s) cpu {cpu:6.2f} s | peak {peak_mb:6.0f} MB | "
        f"at 60/min {xero_calls:5.0f} s of Xero | naive {7 * size:>7} calls | "
        f"{sum(1 for f in findings if f.status.value in ('fail', 'warn'))} problems | "
        f"re-scan {len(rescan_calls)} calls, {rescan:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            measure(size, args.seed, Path(folder))


if __name__ == "__main__":
    main()
