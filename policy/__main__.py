"""Entry point the Pulumi CLI runs for `pulumi preview --policy-pack policy`.

Why the sys.path line: the CLI runs this file as a script (`python -m pulumi.policy <engine> .`
from inside policy/, which runs "./__main__.py"), so `policy` is not an importable package there;
the tests import the same modules as `policy.rules` and `policy.pack` from the repository root.
Putting policy/'s parent on sys.path lets this file import the package by its name, so every other
module can use one import style (package-relative) in both cases, without a try/except import.

Keep this file to building the pack: PolicyPack() serves the engine's gRPC calls and never returns,
which is also why tests import policy.pack, never this module.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pulumi_policy import PolicyPack

_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent)
if _PACKAGE_PARENT not in sys.path:
    sys.path.insert(0, _PACKAGE_PARENT)

from policy.pack import PACK_NAME, POLICIES  # noqa: E402 (after the sys.path line above)

PolicyPack(name=PACK_NAME, policies=list(POLICIES))
