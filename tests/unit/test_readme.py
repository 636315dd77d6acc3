"""README.md's configuration section is the schema's, and Pulumi.yaml declares exactly its keys."""

from __future__ import annotations

import yaml

from devtools.config_table import MARKERS, table
from devtools.harness import ROOT
from settings.schema import GROUPS, SECRET_KEYS


def test_the_readme_config_table_is_the_schemas() -> None:
    readme = (ROOT / "README.md").read_text()
    # Raises, naming the missing marker, when README.md lost one.
    documented = MARKERS.block(readme, "README.md")
    # On a mismatch: `python -m devtools.config_table --update-readme README.md` rewrites the block.
    assert documented == f"{table()}\n"


def test_the_table_lists_every_value_once() -> None:
    paths = [line.split("|")[1].strip() for line in table().splitlines()[2:]]
    assert len(paths) == len(set(paths))
    for expected in ("`app.resources.limits.cpu`", "`namespace.quota.pods`", "`tls.certManager.install`"):
        assert expected in paths


def test_pulumi_yaml_declares_each_group_and_secret_and_nothing_else() -> None:
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    assert set(declared) == set(GROUPS) | set(SECRET_KEYS)
    for key in GROUPS:
        # An object's defaults live in settings/schema.py: the CLI would replace a default object
        # whole as soon as a stack sets one of its fields.
        assert (declared[key]["type"], declared[key]["default"]) == ("object", {}), key
    for key in SECRET_KEYS:
        assert (declared[key]["type"], declared[key]["default"]) == ("string", ""), key
