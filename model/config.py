"""The configuration of one model instance: how many CPUs, tasks, vcpus, and the hyp mode."""

from __future__ import annotations

from dataclasses import dataclass, field

from model.events import DEFAULT_EVENTS, check_events


@dataclass(frozen=True)
class Config:
    """What is instantiated.

    * ``cpus``: physical CPUs.
    * ``tasks``: host user tasks besides the VMM threads (they use FP in user space, make
      syscalls that may use kernel-mode NEON, are preempted and migrate).
    * ``vmm_threads``: threads of one VMM process that issue KVM_RUN.  Two threads on the
      same vcpu are what make ``kvm_arch_vcpu_run_pid_change`` matter.
    * ``vcpus``: vcpus of that VM; any VMM thread may issue KVM_RUN on any vcpu (the vcpu
      mutex serialises them, as ``kvm_vcpu_ioctl`` does).
    * ``vhe``: hyp mode: VHE (host at EL2, FP trap in CPACR_EL1.FPEN) or nVHE (host at EL1,
      FP trap in CPTR_EL2.TFP).
    * ``sve``: ``system_supports_sve()`` (one vector length).  With SVE each Z register is
      VL bits and the model carries the bits above V as a separate slice; KVM then needs
      VHE.  The seed patch refuses SVE with KVM (``BUG_ON(system_supports_sve())`` in
      ``kvm_arch_vcpu_load_fp``); v4.18-rc1 lifted that.
    * ``guest_aarch32``: the vcpus are AArch32 guests (KVM_ARM_VCPU_EL1_32BIT).
    * ``events``: the optional kernel paths included (model/events.py).
    * ``lockdep``: the kernel is built with CONFIG_PROVE_LOCKING, so lockdep assertions
      (``lockdep_assert_irqs_enabled()`` in ``local_bh_enable()``) are checked too.
    """

    cpus: int = 2
    tasks: int = 1
    vmm_threads: int = 1
    vcpus: int = 1
    vhe: bool = False
    sve: bool = False
    lockdep: bool = True
    guest_aarch32: bool = False
    events: tuple[str, ...] = field(default=DEFAULT_EVENTS)

    def __post_init__(self) -> None:
        object.__setattr__(self, "events", check_events(tuple(self.events)))
        if not 1 <= self.cpus <= 4:
            raise ValueError(f"--cpus must be between 1 and 4, not {self.cpus}")
        if not 0 <= self.tasks <= 3:
            raise ValueError(f"--tasks must be between 0 and 3, not {self.tasks}")
        if not 0 <= self.vmm_threads <= 2:
            raise ValueError(f"--vmm-threads must be between 0 and 2, not {self.vmm_threads}")
        if not 0 <= self.vcpus <= 2:
            raise ValueError(f"--vcpus must be between 0 and 2, not {self.vcpus}")
        if self.vcpus and not self.vmm_threads:
            raise ValueError("--vcpus needs at least one --vmm-threads to run them")
        if self.sve and not self.vhe and self.vcpus:
            raise ValueError(
                "--sve with KVM needs VHE (v4.18's kvm_arch_check_sve_has_vhe refuses nVHE);"
                " use --vhe")

    @property
    def user_tasks(self) -> int:
        """Every task with an mm: the plain user tasks, then the VMM threads."""
        return self.tasks + self.vmm_threads

    def describe(self) -> str:
        return (
            f"cpus={self.cpus} tasks={self.tasks} vmm_threads={self.vmm_threads} "
            f"vcpus={self.vcpus} {'VHE' if self.vhe else 'nVHE'}"
            f"{' SVE' if self.sve else ''}{'' if self.lockdep else ' no-lockdep'}"
            f"{' aarch32-guest' if self.guest_aarch32 else ''}"
            f"{' events=' + ','.join(self.events) if self.events else ''}"
        )

    def to_json(self) -> dict:
        return {
            "cpus": self.cpus,
            "tasks": self.tasks,
            "vmm_threads": self.vmm_threads,
            "vcpus": self.vcpus,
            "vhe": self.vhe,
            "sve": self.sve,
            "lockdep": self.lockdep,
            "guest_aarch32": self.guest_aarch32,
            "events": list(self.events),
        }
