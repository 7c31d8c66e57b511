"""The build's shortcuts (model.ctx: recorded inlined IRQs replayed, `Ctx._inline_irq`;
no ownership checks before a resume step's resume point; memoised IRQ read/write sets)
give the same actions as building everything: compared field by field (statements,
expressions, inputs, locals by name, functions, labels, preemption windows)."""

from __future__ import annotations

import pytest

import model.ctx
from checker.instance import Instance, build_fingerprint, clear_build_cache
from model.config import Config, kconfig_preset
from model.variants import get_variant

PREEMPT = kconfig_preset("preempt")


CASES = [
    # split preemption: resume steps, whose part before the resume point is not kept
    ("v4.18", dict(vhe=False)),
    ("v6.16", dict(cpus=1, vcpus=0, vmm_threads=0, events=("signal",),
                   vhe=False, **PREEMPT)),
    ("v6.10", dict(cpus=1, tasks=2, vcpus=0, vmm_threads=0, sme=True, vhe=False,
                   events=("ptrace_fpr_set",), **PREEMPT)),
]


def _build(variant: str, cfg: dict) -> Instance:
    """A build of its own, not one of checker.instance's cached builds (whose key does
    not include model.ctx's switches)."""
    clear_build_cache()
    return Instance(Config(**cfg), get_variant(variant))


@pytest.fixture
def flags():
    saved = (model.ctx.REPLAY_IRQS, model.ctx.CHECK_IRQ_REPLAY)
    yield
    model.ctx.REPLAY_IRQS, model.ctx.CHECK_IRQ_REPLAY = saved
    clear_build_cache()


@pytest.mark.parametrize("variant,cfg", CASES, ids=[c[0] for c in CASES])
def test_replayed_irqs_build_the_same_actions(variant: str, cfg: dict, flags) -> None:
    fast = _build(variant, cfg)
    assert fast.layout.extra_pcs, "a split configuration (resume steps)"
    # Every inlined IRQ built and compared with its replay (statements, inputs, locals,
    # functions, ownership checks, static state): a difference raises ModelError.
    model.ctx.CHECK_IRQ_REPLAY = True
    checked = _build(variant, cfg)
    assert build_fingerprint(checked) == build_fingerprint(fast)


def test_building_every_irq_gives_the_same_actions(flags) -> None:
    variant, cfg = CASES[0]
    fast = _build(variant, cfg)
    model.ctx.REPLAY_IRQS = False
    slow = _build(variant, cfg)
    assert build_fingerprint(fast) == build_fingerprint(slow)


def test_the_replay_check_can_fail(flags, monkeypatch) -> None:
    """A replay that numbers its inputs wrongly is caught by CHECK_IRQ_REPLAY."""
    model.ctx.CHECK_IRQ_REPLAY = True
    real = model.ctx._renumber
    monkeypatch.setattr(model.ctx, "_renumber", lambda name, delta: real(name, delta + 1))
    with pytest.raises(model.ctx.ModelError, match="IRQ replay differs"):
        _build(*CASES[0])
