"""Every built-in variant builds at the default configuration (the bench's matrix found
v4.18-vcpu-reset-fix refusing to build without event vcpu_reset)."""

from __future__ import annotations

import pytest

from checker.instance import Instance
from model.config import Config
from model.variants import get_variant, variants


@pytest.mark.parametrize("name", sorted(variants()))
def test_builds_at_the_default_configuration(name: str) -> None:
    inst = Instance(Config(), get_variant(name))
    assert inst.actions
