# Every field of the kubernetes client's models is Optional; in these tests a missing field fails
# the test on the spot anyway, so narrowing each one would only add noise.
# pyright: reportOptionalMemberAccess=false, reportOptionalSubscript=false, reportArgumentType=false
"""Talking to the end-to-end tests' API server: polling helpers and an ingress-controller stand-in."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

T = TypeVar("T")

# What an ingress controller publishes once it serves an Ingress; kwok has no controller, so the
# tests publish it (a loopback address: nothing is ever sent to it).
STAND_IN_ADDRESS = "127.0.0.1"


def api_client(kubeconfig: str) -> client.ApiClient:
    return config.new_client_from_config(config_file=kubeconfig)


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 120, interval: float = 0.5) -> T:
    """Polls `probe` until it returns something other than None/False; fails naming `what`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last is not None and last is not False:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


def not_found(call: Callable[[], Any]) -> bool:
    """True once `call` answers 404."""
    try:
        call()
    except ApiException as exc:
        if exc.status == 404:
            return True
        raise
    return False


class IngressControllerStandIn:
    """Plays the part of ingress-nginx for the provider's await logic: publishes an address in the
    status of every Ingress of the given class, as the real controller does once it serves it."""

    def __init__(self, api: client.ApiClient, ingress_class: str = "nginx", interval: float = 0.5) -> None:
        self.networking = client.NetworkingV1Api(api)
        self.ingress_class = ingress_class
        self.interval = interval
        self.published: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ingress-controller-stand-in", daemon=True)

    def __enter__(self) -> IngressControllerStandIn:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            # The API server may be busy, restarting or gone at teardown, or an Ingress just deleted:
            # try again next round.
            with contextlib.suppress(ApiException, urllib3.exceptions.HTTPError):
                self.publish_once()
            self._stop.wait(self.interval)

    def publish_once(self) -> None:
        for ingress in self.networking.list_ingress_for_all_namespaces().items:
            status = ingress.status.load_balancer if ingress.status else None
            if ingress.spec.ingress_class_name != self.ingress_class or (status and status.ingress):
                continue
            self.networking.patch_namespaced_ingress_status(
                ingress.metadata.name,
                ingress.metadata.namespace,
                {"status": {"loadBalancer": {"ingress": [{"ip": STAND_IN_ADDRESS}]}}},
            )
            self.published.append(f"{ingress.metadata.namespace}/{ingress.metadata.name}")


def main() -> None:
    """`python -m tests.e2e.cluster`: play the ingress controller for $KUBECONFIG until Ctrl-C."""
    with IngressControllerStandIn(api_client(os.environ["KUBECONFIG"])) as stand_in:
        print(f"publishing {STAND_IN_ADDRESS} for every nginx-class Ingress; Ctrl-C to stop", flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            print(f"published: {', '.join(stand_in.published) or 'none'}")


if __name__ == "__main__":
    main()
