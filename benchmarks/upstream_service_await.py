"""Minimal reproduction, for an upstream report: pulumi-kubernetes' Service await adds ~10 s to `up`.

benchmarks/upstream_service_await/ is a program of a Namespace, a one-pod Deployment and a ClusterIP
Service, nothing of this project. On a kwok cluster of its own, it is created and destroyed N times
with the Service's await on, then N times with `pulumi.com/skipAwait: "true"` on the Service, and
prints each `pulumi up`'s wall time and, from its OpenTelemetry trace, how long the provider's
Create of the Service and of the Deployment took (their awaits included). Also printed from the
same traces, because they are upstream too: the kubernetes provider's Configure, and the Python
language host's About, which the CLI waits for before planning (it runs `python -m pip --version`).

Usage: .venv/bin/python benchmarks/upstream_service_await.py [--rounds N]
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.support import PulumiProject, bench_cluster, benchmark_parser, run_main  # noqa: E402
from benchmarks.trace import read_spans, resource_of  # noqa: E402

PROGRAM = ROOT / "benchmarks" / "upstream_service_await"


def span_seconds(trace: Path, service: str, name_end: str, resource: str = "") -> float:
    spans = [
        s
        for s in read_spans(trace)
        if s.service == service and s.name.endswith(name_end) and (not resource or resource in resource_of(s))
    ]
    return max((s.seconds for s in spans), default=float("nan"))


def main() -> None:
    parser = benchmark_parser(__doc__, rounds=3, json_file=False)
    args = parser.parse_args()
    # The program has no Ingress: no ingress controller to play.
    with bench_cluster("flask-repro-", stand_in=False) as bench:
        scratch = bench.scratch
        project = PulumiProject(scratch / "pulumi", "repro", bench.tool_bin, bench.kubeconfig, standalone=PROGRAM)
        bench.cleanups.callback(project.destroy_quietly)
        print("| Service await | `pulumi up` s | Service create s | Deployment create s | k8s Configure s | About s |")
        print("|---|---|---|---|---|---|")
        for skip in ("false", "true"):
            project.set_config("skipServiceAwait", skip)
            ups = []
            for round_index in range(args.rounds):
                trace = scratch / f"up-{skip}-{round_index}.json"
                ups.append(project.measure("up", "--yes", "--skip-preview", "--otel-traces", trace.as_uri()).seconds)
                provider = "pulumi-resource-provider"
                print(
                    f"| {'skipped' if skip == 'true' else 'on'} | {ups[-1]:.2f} "
                    f"| {span_seconds(trace, provider, '/Create', 'Service::web'):.2f} "
                    f"| {span_seconds(trace, provider, '/Create', 'Deployment::web'):.2f} "
                    f"| {span_seconds(trace, 'pulumi-cli', 'ResourceProvider/Configure'):.2f} "
                    f"| {span_seconds(trace, 'pulumi-cli', 'LanguageRuntime/About'):.2f} |",
                    flush=True,
                )
                project.measure("destroy", "--yes", "--skip-preview")
            label = "skipped" if skip == "true" else "on"
            print(f"median of `pulumi up` with the Service's await {label}: {statistics.median(ups):.2f} s")


if __name__ == "__main__":
    run_main(main, "reproduction")
