"""`pulumi preview --policy-pack policy`, as a pull request runs it, through the real engine.

Runs on a `local` stack of its own that is never deployed, so the preview plans every object and
the pack sees them all.
"""

from __future__ import annotations

import pytest
from pulumi import automation as auto

from tests.e2e.conftest import STACK, E2EStack

pytestmark = pytest.mark.e2e


def preview_with_pack(e2e_stack: E2EStack, output: list[str] | None = None) -> auto.PreviewResult:
    pack = e2e_stack.project_dir / "policy"
    return e2e_stack.stack.preview(
        on_output=output.append if output is not None else None,
        policy_packs=[str(pack)],
        policy_pack_configs=[str(pack / "config" / f"{STACK}.json")],
    )


def test_preview_with_the_policy_pack_passes(e2e_stack: E2EStack) -> None:
    output: list[str] = []
    result = preview_with_pack(e2e_stack, output)
    text = "".join(output)
    # The pack did run: the engine names it in the preview's policy summary.
    assert "flask-k8s" in text and "Policies:" in text, text[-3000:]
    assert result.change_summary.get(auto.OpType.CREATE, 0) > 0


def test_a_bad_stack_config_fails_the_preview_with_the_rules_message(e2e_stack: E2EStack) -> None:
    # Valid for the program (privileged is a Pod Security level), refused by the pack.
    e2e_stack.stack.set_config(
        "flask-k8s:namespace.podSecurity.enforce", auto.ConfigValue(value="privileged"), path=True
    )
    try:
        with pytest.raises(auto.CommandError) as failed:
            preview_with_pack(e2e_stack)
        message = str(failed.value)
        assert "namespace-pod-security" in message, message[-3000:]
        assert "pod-security.kubernetes.io/enforce=privileged enforces nothing" in message, message[-3000:]
    finally:
        e2e_stack.stack.remove_config("flask-k8s:namespace.podSecurity.enforce", path=True)
