"""The guarded-command language: build-time checks and builder semantics."""

from __future__ import annotations

import pytest

from model.config import Config
from model.ctx import Ctx
from model.dsl import Action, If, ModelError, check_data_independence
from model.state import Layout
from model.variants import get_variant


def _ctx() -> Ctx:
    return Ctx(Layout(Config(preemption="merged", cpus=1)), get_variant("seed"), 0, 1)


def test_expressions_have_no_truth_value_at_build_time() -> None:
    k = _ctx()
    with pytest.raises(ModelError):
        bool(k.this_cpu.irqs_disabled.eq(1))


def test_if_else_builds_one_conditional() -> None:
    k = _ctx()
    with k.If(k.this_cpu.irqs_disabled.eq(1)):
        k.set(k.this_cpu.preempt_count, 1)
    with k.Else():
        k.set(k.this_cpu.preempt_count, 2)
    (node,) = k.body()
    assert isinstance(node, If) and len(node.then) == 1 and len(node.els) == 1


def test_else_without_if_is_rejected() -> None:
    k = _ctx()
    with pytest.raises(ModelError):
        with k.Else():
            pass


def test_branching_on_register_contents_is_rejected() -> None:
    k = _ctx()
    with k.If(k.this_cpu.regs.v.eq("0")):
        k.set(k.this_cpu.preempt_count, 1)
    a = Action("peek", (), "peek", k.true, k.body(), (), ())
    with pytest.raises(ModelError, match="data-independent"):
        check_data_independence(a)


def test_unknown_function_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no function"):
        _ctx().fpsimd_no_such_function()


def test_config_bounds_are_checked() -> None:
    with pytest.raises(ValueError, match="--cpus"):
        Config(preemption="merged", cpus=9)
    with pytest.raises(ValueError, match="--vmm-threads"):
        Config(preemption="merged", vcpus=1, vmm_threads=0)
