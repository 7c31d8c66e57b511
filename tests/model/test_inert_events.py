"""An event that adds no step to a configuration (model.steps.inert_events) is named, so
that a "holds" is not read as covering it; the CLI says so once per command."""

from __future__ import annotations

from checker.cli import main
from checker.instance import Instance
from model.config import Config, kconfig_preset
from model.steps import inert_events
from model.variants import get_variant

SMALL = {"preemption": "merged", "cpus": 1, "vcpus": 0, "vmm_threads": 0,
         **kconfig_preset("preempt")}


def _inert(variant: str, **cfg) -> list[str]:
    return inert_events(Instance(Config(**{**SMALL, **cfg}), get_variant(variant)).layout)


def test_an_event_without_its_steps_is_inert() -> None:
    # NT_ARM_SVE/NT_ARM_SSVE payloads need --sve or --sme; fork needs two user tasks
    assert _inert("v6.10", tasks=2, events=("ptrace_sve_fpsimd", "ptrace_fpr_set")) == [
        "ptrace_sve_fpsimd"]
    assert _inert("v6.10", tasks=1, events=("fork", "signal")) == ["fork"]


def test_events_with_steps_are_not() -> None:
    assert _inert("v6.10", tasks=2, sme=True,
                  events=("ptrace_sve_fpsimd", "ptrace_fpr_set")) == []
    # ptrace_stop gates its steps through the layout (Layout.ptrace), not the event name
    assert _inert("v4.18", tasks=2, events=("ptrace_fpr_set", "ptrace_stop", "exec")) == []


def test_cli_notes_an_inert_event_once(capsys) -> None:
    code = main(["explore", "--variant", "v6.10", "--event", "fork", "--cpus", "1",
                 "--tasks", "1", "--vcpus", "0", "--vmm-threads", "0", "--kconfig", "preempt",
                 "--quiet", "--out", "/tmp/fpcheck-unused"])
    err = capsys.readouterr().err
    assert code == 0
    assert err.count("note: event fork adds no step to this configuration") == 1
