"""tests/manifest_scan.py: what it renders, how it reads kube-score's report, and when the layer fails.

kube-score itself runs in the scan layer (scripts/test.sh); here its JSON report is written by hand,
in the shape of kube-score 1.20's output version v2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.manifest_scan import (
    ALLOW_LIST,
    Allowed,
    AllowListError,
    Finding,
    compare,
    findings_of,
    kubernetes_minor,
    parse_allow_list,
    render,
)


def _check(check_id: str, grade: int, paths: list[str], *, skipped: bool = False) -> dict[str, Any]:
    return {
        "check": {"id": check_id, "name": check_id, "optional": False},
        "grade": grade,
        "skipped": skipped,
        "comments": [{"path": p, "summary": "s", "description": "d"} for p in paths],
    }


REPORT = [
    {
        "object_name": "Deployment/apps/v1/ns/web",
        "type_meta": {"kind": "Deployment", "apiVersion": "apps/v1"},
        "object_meta": {"name": "web", "namespace": "ns"},
        "checks": [
            _check("container-image-pull-policy", 1, ["web", "sidecar"]),
            _check("deployment-has-host-podantiaffinity", 5, [""]),
            _check("pod-probes", 10, []),
            _check("deployment-targeted-by-hpa-does-not-have-replicas-configured", 1, [], skipped=True),
            # One check, two comments on one container: one finding.
            _check("container-resource-requests-equal-limits", 1, ["web", "web"]),
        ],
    },
    {
        "object_name": "Namespace/v1/ns",
        "type_meta": {"kind": "Namespace", "apiVersion": "v1"},
        "object_meta": {"name": "ns"},
        "checks": [_check("some-check", 7, [])],
    },
]


def test_findings_are_the_checks_graded_below_all_ok_per_container() -> None:
    assert findings_of("dev", REPORT) == sorted(
        [
            Finding("dev", "Deployment/ns/web", "container-image-pull-policy", "web"),
            Finding("dev", "Deployment/ns/web", "container-image-pull-policy", "sidecar"),
            Finding("dev", "Deployment/ns/web", "deployment-has-host-podantiaffinity", "-"),
            Finding("dev", "Deployment/ns/web", "container-resource-requests-equal-limits", "web"),
            Finding("dev", "Namespace/-/ns", "some-check", "-"),
        ]
    )


def test_a_new_finding_and_a_stale_line_both_fail() -> None:
    allowed = parse_allow_list(
        "# comment\n\n"
        "dev Deployment/ns/web container-image-pull-policy web loaded into Kind\n"
        "dev Deployment/ns/web pod-probes web fixed since\n"
    )
    found = [
        Finding("dev", "Deployment/ns/web", "container-image-pull-policy", "web"),
        Finding("dev", "Deployment/ns/web", "container-image-pull-policy", "sidecar"),
    ]
    new, stale = compare(found, allowed)
    assert new == [Finding("dev", "Deployment/ns/web", "container-image-pull-policy", "sidecar")]
    assert stale == [Allowed(Finding("dev", "Deployment/ns/web", "pod-probes", "web"), "fixed since", 4)]


def test_a_line_without_a_reason_is_refused() -> None:
    with pytest.raises(AllowListError, match=r"kube-score-allow.txt:2: .*every line gives its reason"):
        parse_allow_list("dev Deployment/ns/web check web a reason\ndev Deployment/ns/web check web\n")


def test_every_line_of_the_reviewed_allow_list_has_a_reason() -> None:
    entries = parse_allow_list(ALLOW_LIST.read_text())
    assert entries
    assert all(len(e.reason.split()) >= 5 for e in entries), [e.finding.line() for e in entries]
    assert len({e.finding for e in entries}) == len(entries), "a finding is listed twice"


def test_the_stacks_render_their_objects_for_the_scanner(tmp_path: Path) -> None:
    documents = list(yaml.safe_load_all(render("prod", tmp_path).read_text()))
    kinds = {d["kind"] for d in documents}
    # prod routes through Gateway API: its Gateway and HTTPRoutes are rendered too (kube-score skips them).
    assert {"Deployment", "NetworkPolicy", "HorizontalPodAutoscaler", "Service", "Gateway", "HTTPRoute"} <= kinds


def test_kube_score_is_told_the_pinned_kubernetes_minor() -> None:
    assert kubernetes_minor().startswith("v1.")
    assert kubernetes_minor().count(".") == 1
