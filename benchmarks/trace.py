"""Where the time of one `pulumi` command goes, from its OpenTelemetry trace (`--otel-traces file://`).

Prints, relative to the CLI's start: when the program started, when the provider plugins were
loaded, and the span of every resource operation the providers ran (create, update, delete: the
provider's await included), longest first or in start order. The engine's own event log has only
whole seconds; the trace has nanoseconds.

A trace logs the providers' requests and responses, the stack's secrets included: keep it out of
shared folders and delete it after use (the benchmarks keep theirs in their temporary folder).

Usage: .venv/bin/python benchmarks/trace.py TRACE.json [--by start|duration]
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from pathlib import Path

OPERATIONS = ("Create", "Update", "Delete", "Read", "Diff")
MILESTONES = {
    "pulumi-plan": "engine: plan and apply",
    "run-program": "program run (language host)",
    "newPlugin": "plugin start",
    "pulumirpc.ResourceMonitor/SignalAndWaitForShutdown": "program done",
}


@dataclass(frozen=True)
class Span:
    service: str
    name: str
    start: float
    end: float
    message: str

    @property
    def seconds(self) -> float:
        return self.end - self.start


def read_spans(path: Path) -> list[Span]:
    spans: list[Span] = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        for resource_spans in json.loads(line).get("resourceSpans", []):
            attributes = resource_spans.get("resource", {}).get("attributes", [])
            service = next((a["value"].get("stringValue", "") for a in attributes if a["key"] == "service.name"), "")
            for scope in resource_spans.get("scopeSpans", []):
                for span in scope.get("spans", []):
                    message = next(
                        (a["value"].get("stringValue", "") for a in span.get("attributes", []) if a["key"] == "Msg"), ""
                    )
                    spans.append(
                        Span(
                            service=service,
                            name=span["name"],
                            start=int(span["startTimeUnixNano"]) / 1e9,
                            end=int(span["endTimeUnixNano"]) / 1e9,
                            message=message,
                        )
                    )
    return spans


def resource_of(span: Span) -> str:
    """`type::name` of the resource a provider call was about, from the logged gRPC request."""
    match = re.search(r'urn:\\?"(urn:pulumi:[^"\\]+)', span.message)
    if not match:
        return "?"
    urn = match.group(1)
    return f"{urn.split('::')[-2].split('$')[-1]}::{urn.split('::')[-1]}"


def summarize(path: Path, by: str = "start", limit: int | None = None) -> list[str]:
    """The milestones and the resource operations of one trace (the `limit` first, if given)."""
    spans = read_spans(path)
    if not spans:
        return [f"{path}: no spans"]
    origin = min(s.start for s in spans)
    end = max(s.end for s in spans)
    lines = [f"{path.name}: {end - origin:.2f} s from the CLI's start to its last span"]
    for span in sorted(spans, key=lambda s: s.start):
        if span.service == "pulumi-cli" and span.name in MILESTONES:
            lines.append(f"  {span.start - origin:6.2f} {span.end - origin:6.2f}  {MILESTONES[span.name]}")
    operations = [
        s
        for s in spans
        if s.service == "pulumi-resource-provider" and s.name.rsplit("/", 1)[-1] in OPERATIONS[:3] and s.seconds > 0
    ]
    operations.sort(key=(lambda s: -s.seconds) if by == "duration" else (lambda s: s.start))
    if limit is not None and len(operations) > limit:
        lines.append(f"  ({len(operations)} operations; the {limit} first by {by}:)")
        operations = operations[:limit]
    for span in operations:
        lines.append(
            f"  {span.start - origin:6.2f} {span.end - origin:6.2f}  {span.seconds:5.2f} s "
            f"{span.name.rsplit('/', 1)[-1].lower():6} {resource_of(span)}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trace", type=Path)
    parser.add_argument("--by", choices=("start", "duration"), default="start")
    args = parser.parse_args()
    print("\n".join(summarize(args.trace, args.by)))


if __name__ == "__main__":
    main()
