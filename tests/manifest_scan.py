"""The scan layer: kube-score over every Kubernetes object the dev and prod stacks render under mocks.

kube-score (built from its Go module by scripts/toolchain/kube-score.sh) checks what a schema cannot:
a pod without a NetworkPolicy for its ingress or egress, a Service selecting no pod, a container
without probes, limits or a read-only root filesystem, a PodDisruptionBudget matching nothing, and
more; its optional checks are on too. Each finding is either fixed in the program or listed in
tests/kube-score-allow.txt, one line per finding with its reason. The layer fails on a finding not
listed there, on a listed one that no longer occurs (the list stays what is true), and on a line
without a reason.

    .venv/bin/python -m tests.manifest_scan --kube-score PATH

The rendered objects go to a temporary folder, removed afterwards: the Secrets in them hold the mocks'
values, never a real secret.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from devtools.harness import ROOT, run_stack

STACKS = ("dev", "prod")
ALLOW_LIST = ROOT / "tests" / "kube-score-allow.txt"
# kube-score's grade of a check that found nothing (scorecard.GradeAllOK).
ALL_OK = 10
# Manifests a provider applies from a URL (the ingress-nginx and cert-manager releases) are
# rendered by the provider at `up`, not under mocks: they are their projects' to scan.
NOT_RENDERED = ("kubernetes:yaml/",)


@dataclass(frozen=True, order=True)
class Finding:
    """One thing kube-score reports: in a stack, on an object, by a check, about a container ("-": the object)."""

    stack: str
    object: str
    """Kind/namespace/name."""
    check: str
    """kube-score's check id (`kube-score list` prints them all)."""
    where: str

    def line(self) -> str:
        return f"{self.stack} {self.object} {self.check} {self.where}"


@dataclass(frozen=True)
class Allowed:
    finding: Finding
    reason: str
    line_number: int


class AllowListError(ValueError):
    """A line of the allow-list that is not `stack Kind/namespace/name check container reason...`."""


def parse_allow_list(text: str) -> list[Allowed]:
    """The allow-list's entries; blank lines and lines starting with # are ignored."""
    entries: list[Allowed] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 4)
        if len(parts) < 5 or not parts[4].strip():
            raise AllowListError(
                f"{ALLOW_LIST.name}:{number}: {line!r}: want `stack Kind/namespace/name check container reason`; "
                "every line gives its reason"
            )
        stack, obj, check, where, reason = parts
        entries.append(Allowed(Finding(stack, obj, check, where), reason.strip(), number))
    return entries


def render(stack: str, folder: Path) -> Path:
    """Writes the Kubernetes objects a stack registers under mocks to one multi-document YAML file."""
    objects = [r.inputs for r in run_stack(stack).kubernetes_objects() if not r.type.startswith(NOT_RENDERED)]
    if not objects:
        raise RuntimeError(f"the {stack} stack rendered no Kubernetes object")
    path = folder / f"{stack}.yaml"
    path.write_text(yaml.safe_dump_all(objects, sort_keys=False))
    return path


def _object_name(scored: dict[str, Any]) -> str:
    meta = scored.get("object_meta") or {}
    return f"{scored['type_meta']['kind']}/{meta.get('namespace') or '-'}/{meta.get('name', '?')}"


def findings_of(stack: str, report: Sequence[dict[str, Any]]) -> list[Finding]:
    """The findings in kube-score's JSON report (output version v2): every check graded below all-OK."""
    found: set[Finding] = set()
    for scored in report:
        obj = _object_name(scored)
        for check in scored["checks"]:
            if check["skipped"] or check["grade"] >= ALL_OK:
                continue
            places = {c.get("path") or "-" for c in check.get("comments") or []} or {"-"}
            found.update(Finding(stack, obj, check["check"]["id"], where) for where in places)
    return sorted(found)


def kubernetes_minor() -> str:
    """The Kubernetes minor version the project pins (scripts/versions.env), as kube-score takes it: v1.34."""
    for line in (ROOT / "scripts" / "versions.env").read_text().splitlines():
        if line.startswith("KUBERNETES_VERSION="):
            major, minor, *_ = line.split("=", 1)[1].split(".")
            return f"v{major}.{minor}"
    raise RuntimeError("KUBERNETES_VERSION is not set in scripts/versions.env")


def score(kube_score: str, stack: str, manifest: Path) -> list[Finding]:
    command = [
        kube_score,
        "score",
        "--kubernetes-version",
        kubernetes_minor(),
        "--all-default-optional",
        "--output-format",
        "json",
        str(manifest),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    # 1: findings at or above a warning; anything else but 0 is kube-score failing.
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise RuntimeError(f"kube-score failed on the {stack} stack (exit {done.returncode}): {done.stderr.strip()}")
    return findings_of(stack, json.loads(done.stdout))


def compare(found: Iterable[Finding], allowed: Iterable[Allowed]) -> tuple[list[Finding], list[Allowed]]:
    """Findings not on the list, and entries of the list that match no finding."""
    found, allowed = sorted(set(found)), list(allowed)
    listed = {a.finding for a in allowed}
    return [f for f in found if f not in listed], [a for a in allowed if a.finding not in set(found)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="kube-score over the objects the dev and prod stacks render.")
    parser.add_argument("--kube-score", default="kube-score", help="the kube-score binary (default: from PATH)")
    args = parser.parse_args(argv)
    allowed = parse_allow_list(ALLOW_LIST.read_text())
    found: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix="kube-score-") as folder:
        for stack in STACKS:
            found += score(args.kube_score, stack, render(stack, Path(folder)))
    new, stale = compare(found, allowed)
    for finding in new:
        print(f"new finding: {finding.line()}  (fix it, or add this line to tests/{ALLOW_LIST.name} with its reason)")
    for entry in stale:
        print(f"{ALLOW_LIST.name}:{entry.line_number}: no longer found, remove it: {entry.finding.line()}")
    print(
        f"kube-score over {', '.join(STACKS)}: {len(found)} finding(s), {len(found) - len(new)} allow-listed "
        f"with a reason, {len(new)} new, {len(stale)} stale allow-list line(s)"
    )
    return 1 if new or stale else 0


if __name__ == "__main__":
    sys.exit(main())
