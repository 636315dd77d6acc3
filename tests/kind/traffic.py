"""HTTPS requests to the app through the Kind node's ingress, as a user's browser would make them.

Everything goes to 127.0.0.1 (Kind's host ports 80/443) with the app's host name in the TLS SNI
and the Host header, and the certificate is verified against the stack's own CA: the same check
as `curl --cacert ca.crt https://flask-app.local/` with flask-app.local resolving to 127.0.0.1.
The load generator is bounded in rate, count and time, and stops by itself.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import urllib3

LOOPBACK = "127.0.0.1"


class IngressClient:
    """GET requests to https://HOST/... through 127.0.0.1:443, verified against one CA file."""

    def __init__(self, host: str, ca_file: str, timeout: float = 5.0) -> None:
        self.host, self.ca_file = host, ca_file
        self.https = urllib3.HTTPSConnectionPool(
            LOOPBACK,
            443,
            cert_reqs="CERT_REQUIRED",
            ca_certs=ca_file,
            server_hostname=host,
            assert_hostname=host,
            retries=False,
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            maxsize=16,
            block=True,
        )
        self.http = urllib3.HTTPConnectionPool(LOOPBACK, 80, retries=False, timeout=timeout)

    def get(self, path: str) -> urllib3.BaseHTTPResponse:
        return self.https.request("GET", path, headers={"Host": self.host}, redirect=False)

    def get_plain_http(self, path: str) -> urllib3.BaseHTTPResponse:
        return self.http.request("GET", path, headers={"Host": self.host}, redirect=False)

    def post(self, path: str, size: int, scratch: Path) -> tuple[int, dict[str, str], str]:
        """POSTs `size` bytes over HTTPS with curl; returns the status, headers and body of the answer.

        curl, not urllib3: a proxy that refuses a body answers 413 and closes the connection while
        the client is still sending, and curl reads that early answer where urllib3 only sees the
        connection end. `Expect:` is cleared so the answer is to the body itself, as a browser's
        upload gets it."""
        body, head, answer = scratch / f"body-{size}", scratch / f"head-{size}", scratch / f"answer-{size}"
        body.write_bytes(b"x" * size)
        result = subprocess.run(
            [
                "curl", "--silent", "--output", str(answer), "--dump-header", str(head),
                "--cacert", self.ca_file, "--resolve", f"{self.host}:443:{LOOPBACK}",
                "--max-time", "30", "--header", "Expect:", "--header", "Content-Type: application/octet-stream",
                "--data-binary", f"@{body}", f"https://{self.host}{path}",
            ],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        lines = head.read_text().splitlines() if head.exists() else []
        if not lines:
            raise AssertionError(f"curl got no answer (exit {result.returncode}): {result.stderr[-500:]}")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:]) if v}
        return status, headers, answer.read_text() if answer.exists() else ""

    def close(self) -> None:
        self.https.close()
        self.http.close()


@dataclass
class LoadResult:
    """What the load generator saw: one (seconds since start, outcome) per request, in start order."""

    outcomes: list[tuple[float, str]] = field(default_factory=list)
    stopped_by: str = "running"
    """Why the load stopped: "finish" or "stop" (asked to), "max_requests" or "max_seconds" (a cap)."""

    @property
    def sent(self) -> int:
        return len(self.outcomes)

    @property
    def failed(self) -> int:
        return sum(1 for _, outcome in self.outcomes if outcome != "200")

    @property
    def failures(self) -> Counter[str]:
        return Counter(outcome for _, outcome in self.outcomes if outcome != "200")

    @property
    def duration(self) -> float:
        return self.outcomes[-1][0] if self.outcomes else 0.0

    def longest_gap(self) -> float:
        """The longest time without a successful request, from the start to the last request."""
        last_ok, gap = 0.0, 0.0
        for started, outcome in sorted(self.outcomes):
            if outcome == "200":
                gap, last_ok = max(gap, started - last_ok), started
        return max(gap, self.duration - last_ok)

    def summary(self) -> str:
        detail = ", ".join(f"{reason}: {count}" for reason, count in self.failures.most_common()) or "none"
        # When something failed, when it did: that is what ties a failure to a step of the scenario.
        when = [f"{started:.1f}" for started, outcome in self.outcomes if outcome != "200"][:10]
        if when:
            detail += f" (at {', '.join(when)}{', ...' if self.failed > len(when) else ''} s)"
        rate = self.sent / self.duration if self.duration else 0.0
        return (
            f"{self.failed} failed of {self.sent} requests in {self.duration:.1f} s ({rate:.1f}/s, "
            f"stopped by {self.stopped_by}); failures: {detail}; "
            f"longest time without a 200: {self.longest_gap():.1f} s"
        )


class LoadGenerator:
    """Sends GET `path` at `rate` requests/s from entering the `with` block until `finish` or `stop`,
    never more than `max_requests` requests nor for longer than `max_seconds`."""

    def __init__(
        self,
        client: IngressClient,
        path: str = "/",
        rate: float = 20.0,
        max_seconds: float = 300.0,
        max_requests: int = 6000,
    ) -> None:
        self.client, self.path, self.rate = client, path, rate
        self.max_seconds, self.max_requests = max_seconds, max_requests
        self.result = LoadResult()
        self._stop = threading.Event()
        self._stop_reason = "stop"
        self._lock = threading.Lock()
        self._progress = threading.Condition()
        self._scheduled = 0
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="load")
        self._thread = threading.Thread(target=self._run, name="load-scheduler", daemon=True)
        self._start = 0.0

    def _one(self, started: float) -> None:
        try:
            outcome = str(self.client.get(self.path).status)
        except urllib3.exceptions.HTTPError as error:
            outcome = type(error).__name__
        with self._lock:
            self.result.outcomes.append((started, outcome))

    def _run(self) -> None:
        stopped_by = "max_requests"
        for i in range(self.max_requests):
            due = self._start + i / self.rate
            if self._stop.wait(max(0.0, due - time.monotonic())):
                stopped_by = self._stop_reason
                break
            if due - self._start > self.max_seconds:
                stopped_by = "max_seconds"
                break
            self._pool.submit(self._one, due - self._start)
            with self._progress:
                self._scheduled = i + 1
                self._progress.notify_all()
        with self._progress:
            self.result.stopped_by = stopped_by
            self._progress.notify_all()

    def elapsed(self) -> float:
        """Seconds since the load started, on the clock of the requests' start times."""
        return time.monotonic() - self._start

    def __enter__(self) -> LoadGenerator:
        self._start = time.monotonic()
        self._thread.start()
        return self

    def finish(self, at_least: int) -> LoadResult:
        """Keeps the load on until `at_least` requests were sent (or a cap stopped it), then stops it."""
        with self._progress:
            # The scheduler stops by itself at max_seconds, so this wait is bounded; the margin only
            # covers a scheduler thread that lags behind its clock.
            self._progress.wait_for(
                lambda: self._scheduled >= at_least or self.result.stopped_by != "running",
                timeout=max(0.0, self.max_seconds - self.elapsed()) + 30.0,
            )
        self._stop_reason = "finish"
        return self.stop()

    def stop(self) -> LoadResult:
        """Stops sending, waits for the requests in flight and returns what they saw (idempotent)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self._pool.shutdown(wait=True)
        self.result.outcomes.sort()
        return self.result

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
