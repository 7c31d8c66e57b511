"""The configuration of one model instance: how many CPUs, tasks, vcpus, the hyp mode, and
the kernel configuration (Kconfig) the modelled primitives are built with."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import InitVar, dataclass, field, replace
from typing import Any

from model.events import DEFAULT_EVENTS, check_events

# The preemption model (the Kconfig choice "Preemption Model" in kernel/Kconfig.preempt).
PREEMPT_MODELS = ("PREEMPT", "PREEMPT_VOLUNTARY", "PREEMPT_NONE")
# How preemption inside a step is treated (Config.preemption).
PREEMPTION_MODES = ("split", "merged")

# Named kernel configurations (`--kconfig NAME`).  Each sets every Kconfig field.
KCONFIG_PRESETS: dict[str, dict[str, Any]] = {
    # A debug/test kernel: full preemption, lockdep (PROVE_LOCKING selects TRACE_IRQFLAGS).
    "debug": {"preempt": "PREEMPT", "prove_locking": True, "trace_irqflags": True},
    # A distribution kernel (e.g. Debian/Ubuntu/Fedora arm64): voluntary preemption, no
    # lock debugging, no irq-flags tracing.
    "distro": {"preempt": "PREEMPT_VOLUNTARY", "prove_locking": False, "trace_irqflags": False},
    # A fully preemptible production kernel without lock debugging (e.g. Android/embedded);
    # this is what `--no-lockdep` meant before the Kconfig dimension existed.
    "preempt": {"preempt": "PREEMPT", "prove_locking": False, "trace_irqflags": False},
    # A server kernel: no forced preemption, no lock debugging.
    "server": {"preempt": "PREEMPT_NONE", "prove_locking": False, "trace_irqflags": False},
    # A production kernel with irq-flags tracing but no lockdep (e.g. CONFIG_IRQSOFF_TRACER,
    # which selects TRACE_IRQFLAGS): local_bh_enable() changes behaviour, nothing warns.
    "irqsoff-tracer": {"preempt": "PREEMPT", "prove_locking": False, "trace_irqflags": True},
}
DEFAULT_KCONFIG = "debug"

# SVE vector lengths (bits): the architecture allows multiples of 128 from 128 to 2048
# (arch/arm64/include/uapi/asm/sve_context.h SVE_VQ_MIN..SVE_VQ_MAX; the kernel's
# sve_vl_valid() takes the VL in bytes: a multiple of 16 from 16 to 256).
SVE_VL_CHOICES = tuple(range(128, 2049, 128))
# sve_default_vl (arch/arm64/kernel/fpsimd.c, v4.17/v4.18): 64 bytes, clamped by
# find_supported_vector_length() to the largest supported VL not above it.
SVE_DEFAULT_VL = 512
# SME streaming vector lengths (bits): the architecture allows powers of two from 128 to
# 2048 (Arm ARM, SMCR_ELx.LEN: "the Streaming SVE vector length ... must be a power of
# two"; the kernel's vq_map for ARM64_VEC_SME, probed by vec_probe_vqs(), can only hold
# such lengths).  An implementation supports a subset, which need not contain 128.
SME_VL_CHOICES = (128, 256, 512, 1024, 2048)
# sme_setup() (arch/arm64/kernel/fpsimd.c, v5.19 on; read in v6.10.0 and v6.18.2):
# set_sme_default_vl(find_supported_vector_length(ARM64_VEC_SME, 32)): 32 bytes, the
# largest supported streaming VL not above it, else the smallest supported one.
SME_DEFAULT_VL = 256


def parse_sve_vls(text: str) -> tuple[int, ...]:
    """``--sve-vls 128,256``: the vector lengths (bits) the system supports; ValueError
    with a one-line message for anything the architecture does not allow."""
    out: list[int] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            vl = int(item)
        except ValueError:
            raise ValueError(f"--sve-vls: {item!r} is not a vector length in bits") from None
        out.append(vl)
    return tuple(out)


def parse_sme_vls(text: str) -> tuple[int, ...]:
    """``--sme-vls 128,256``: the streaming vector lengths (bits) the system supports;
    ValueError with a one-line message for an item that is not a number (the values are
    checked by Config)."""
    out: list[int] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            out.append(int(item))
        except ValueError:
            raise ValueError(f"--sme-vls: {item!r} is not a vector length in bits") from None
    return tuple(out)


# Individual options settable with `--config NAME=y|n` (CONFIG_ prefix optional).
KCONFIG_OPTIONS = ("PROVE_LOCKING", "TRACE_IRQFLAGS", *PREEMPT_MODELS)


def kconfig_preset(name: str) -> dict[str, Any]:
    """The Kconfig fields of a named preset; ValueError for an unknown name."""
    if name not in KCONFIG_PRESETS:
        raise ValueError(f"unknown kernel configuration {name!r}; known: "
                         f"{', '.join(KCONFIG_PRESETS)}")
    return dict(KCONFIG_PRESETS[name])


def apply_kconfig_options(fields: dict[str, Any], options: list[str]) -> dict[str, Any]:
    """Apply ``NAME=y|n`` overrides (e.g. ``PROVE_LOCKING=n``, ``CONFIG_PREEMPT_NONE=y``)
    to Kconfig fields; ValueError on a malformed or unknown option."""
    out = dict(fields)
    for item in options:
        name, sep, val = item.partition("=")
        name = name.strip().upper().removeprefix("CONFIG_")
        val = val.strip().lower()
        if not sep or val not in ("y", "n"):
            raise ValueError(f"--config {item!r}: expected NAME=y or NAME=n")
        if name not in KCONFIG_OPTIONS:
            raise ValueError(f"--config {item!r}: unknown option; known: "
                             f"{', '.join(KCONFIG_OPTIONS)}")
        on = val == "y"
        if name == "PROVE_LOCKING":
            out["prove_locking"] = on
        elif name == "TRACE_IRQFLAGS":
            out["trace_irqflags"] = on
        elif on:
            out["preempt"] = name
        elif out.get("preempt") == name:
            raise ValueError(f"--config {item!r}: the preemption model is a choice; select "
                             f"another with {' or '.join(m + '=y' for m in PREEMPT_MODELS)}")
    return out


def _vector_lengths(given: Iterable[int], choices: Iterable[int], option: str, on: bool,
                    flag: str, kind: str, what: str, lengths: str, event: bool
                    ) -> tuple[int, ...]:
    """``--sve-vls``/``--sme-vls`` checked (each a length of ``choices``, no repeat, at most
    three, the feature ``--{flag}`` on, and two or more for the event ``{flag}_set_vl``);
    returned sorted, or () for one length (nothing about lengths is modelled then)."""
    vls = tuple(int(v) for v in given)
    for vl in vls:
        if vl not in choices:
            raise ValueError(f"{option}: {vl} is not {what}")
    if len(set(vls)) != len(vls):
        raise ValueError(f"{option}: a vector length is given twice")
    if len(vls) > 3:
        raise ValueError(f"{option}: at most three vector lengths (the state grows with"
                         " every one)")
    if vls and not on:
        raise ValueError(f"{option} needs --{flag} (the system supports {kind})")
    if event:
        if not on:
            raise ValueError(f"--event {flag}_set_vl needs --{flag}")
        if len(vls) < 2:
            raise ValueError(f"--event {flag}_set_vl needs two or three {lengths} the system"
                             f" supports, e.g. {option} 128,256")
    return tuple(sorted(vls)) if len(vls) > 1 else ()


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
    * ``preemption``: ``split`` (the default): a context switch is explored wherever the
      code is preemptible inside a step (CONFIG_PREEMPT; the step is split there,
      model/interleave.py "Preemption"); ``merged``: steps are not split, so a "holds" is
      conditional on the preemption windows `explore` lists being harmless.  Merged is
      cheaper (v4.18 at the default sizes 193,784 -> 27,774 states; with SVE on one CPU
      4.8M -> 474k) and is what traces written before the split existed replay under.
    * ``sve_vls``: the SVE vector lengths (bits) the system supports (`--sve-vls`).
      Empty (the default): one vector length for every task and CPU, nothing about VLs
      is modelled.  With two or three: each task's ``thread.sve_vl`` and each CPU's live
      ZCR_EL1.LEN are state (a value of this set), for the event ``sve_set_vl``
      (prctl(PR_SVE_SET_VL)); needs ``sve``.
    * ``sme_vls`` (`--sme-vls`): the streaming (SME) vector lengths (bits) the system
      supports, a separate option from ``sve_vls`` because the two sets are separate
      properties of a system: the architecture allows powers of two from 128 to 2048 for
      SME but any multiple of 128 for SVE, an implementation's SVE and SME sets need not
      have a common member (e.g. SVE {128} with SME {512}), an SME-only system has no SVE
      set at all, and the kernel keeps them apart (vl_info[ARM64_VEC_SVE] and
      vl_info[ARM64_VEC_SME], thread.vl[] per type, PR_SVE_SET_VL and PR_SME_SET_VL).  One
      list for both would force one set on both kinds.  Empty (the default): one SVL.  With
      two or three: each task's ``thread.vl[ARM64_VEC_SME]`` and each CPU's SMCR_EL1.LEN
      are state (model/variants/v6_sme.py), for the event ``sme_set_vl``
      (prctl(PR_SME_SET_VL)) and the VL check of fpsimd_save_user_state() in streaming
      mode; needs ``sme``.
    * ``sve_guest`` (`--sve-guest`): the vcpus have the SVE feature (KVM_ARM_VCPU_SVE,
      ``vcpu_has_sve()``; KVM has supported SVE guests in nVHE since v5.12, 8c8010d69c13),
      with their max vector length ``vcpu->arch.sve_max_vl`` = kvm_sve_max_vl, the
      largest length the system supports (kvm/reset.c kvm_vcpu_enable_sve(): a VMM that
      sets no KVM_REG_ARM64_SVE_VLS gets it), the guest's own ZCR_EL1, the vcpu's SVE
      register state and, on nVHE, ZCR_EL2 and CPTR_EL2.TZ for the host.  Only the
      variants whose KVM code supports SVE guests in both hyp modes accept it (v6.x,
      not the 2018 ones); needs ``sve`` and a vcpu.
    * ``sme`` (`--sme`): ``system_supports_sme()``: the Scalable Matrix Extension, with
      PSTATE.SM/PSTATE.ZA (SVCR), the ZA array, CPACR_EL1.SMEN_EL0EN, TIF_SME,
      thread.svcr and thread.sme_state (model/variants/v6_sme.py).  With or without ``sve`` (SME
      without SVE is e.g. Apple M4).  One streaming vector length (SVL) for every task
      unless ``sme_vls`` lists several (below); several SVE vector lengths (``sve_vls``)
      combine with SME.  No SME2 (ZT0), no FEAT_SME_FA64.
      Only the variants whose SME code was read accept it (v6.8-v6.10 and v6.16, see
      model/variants/v6.py), with every optional event (their SME statements:
      model/variants/v6_events.py) and the tracer's NT_ARM_SVE, NT_ARM_SSVE and NT_ARM_ZA
      writes (model/variants/v6_ptrace.py).  With ``fpmr`` too (v6.9, v6.10, v6.16: systems
      with both SME and FEAT_FPMR): every change of PSTATE.SM resets FPMR (Arm ARM, as
      quoted by e5fa85fce08b; model/variants/v6_sme.py sme_write_svcr), the SME save and
      reload move FPMR (v6.9/v6.10 restore it before SVCR, v6.16 after), v6.16's
      task_smstop_sm() zeroes thread.uw.fpmr.

    * ``fpmr`` (`--fpmr`): the CPUs have FEAT_FPMR (``system_supports_fpmr()``): FPMR, the
      FP8 mode register, is part of every host task's FP state (``thread.uw.fpmr``, saved
      and restored with it since v6.9, 203f2b95a882).  Only the variants whose code was
      read with FPMR accept it (v6.9 on); with the optional events too (their FPMR
      statements: exec, fork, the signal frame's fpmr_context, NT_ARM_FPMR:
      model/variants/v6_events.py), and with ``sme`` where SME is modelled (above).
    * ``guest_fpmr`` (`--guest-fpmr`): the VM has FPMR too (``kvm_has_fpmr()``: the VMM
      left ID_AA64PFR2_EL1.FPMR set; KVM supports it since v6.12): the guest reads and
      writes its own FPMR, which hyp and KVM switch.  Without it the guest cannot access
      FPMR (HCRX_EL2.EnFPM clear: UNDEF).  Needs ``fpmr`` and a vcpu.

    The kernel configuration, named after Kconfig (presets in `KCONFIG_PRESETS`; the
    default is the ``debug`` preset):

    * ``preempt``: the preemption model, CONFIG_PREEMPT (preemption wherever the preempt
      count is zero with IRQs on: at preempt_enable(), on IRQ return to kernel code),
      CONFIG_PREEMPT_VOLUNTARY or CONFIG_PREEMPT_NONE (only at explicit scheduling points:
      return to user space, cond_resched(), blocking calls); see model.steps.preemptible.
    * ``prove_locking``: CONFIG_PROVE_LOCKING: the lockdep assertions
      (``lockdep_assert_irqs_enabled()`` in ``local_bh_enable()``, ...) exist and are
      checked (kind ``lockdep`` of `kernel_asserts`).  It selects TRACE_IRQFLAGS.
    * ``trace_irqflags``: CONFIG_TRACE_IRQFLAGS: ``local_bh_disable()`` is the out-of-line
      kernel/softirq.c version (WARN_ON_ONCE(in_irq())) and ``__local_bh_enable_ip()``
      masks IRQs on entry and *unmasks them on exit*, whatever the caller had.
    """

    cpus: int = 2
    tasks: int = 1
    vmm_threads: int = 1
    vcpus: int = 1
    vhe: bool = False
    sve: bool = False
    preempt: str = KCONFIG_PRESETS[DEFAULT_KCONFIG]["preempt"]
    prove_locking: bool = KCONFIG_PRESETS[DEFAULT_KCONFIG]["prove_locking"]
    trace_irqflags: bool = KCONFIG_PRESETS[DEFAULT_KCONFIG]["trace_irqflags"]
    guest_aarch32: bool = False
    events: tuple[str, ...] = field(default=DEFAULT_EVENTS)
    preemption: str = "split"
    sve_vls: tuple[int, ...] = ()
    sve_guest: bool = False
    # system_supports_sme() (`--sme`): see the class docstring.
    sme: bool = False
    # the streaming vector lengths (`--sme-vls`): see the class docstring.
    sme_vls: tuple[int, ...] = ()
    fpmr: bool = False
    guest_fpmr: bool = False
    # Deprecated alias (the flag before the Kconfig fields): lockdep=True is PROVE_LOCKING
    # with TRACE_IRQFLAGS, lockdep=False neither (what the model did then); other fields
    # as given.
    lockdep: InitVar[bool | None] = None

    def __post_init__(self, lockdep: bool | None = None) -> None:
        if lockdep is not None:
            object.__setattr__(self, "prove_locking", bool(lockdep))
            object.__setattr__(self, "trace_irqflags", bool(lockdep))
        object.__setattr__(self, "events", check_events(tuple(self.events)))
        object.__setattr__(self, "sve_vls", _vector_lengths(
            self.sve_vls, SVE_VL_CHOICES, "--sve-vls", self.sve, "sve", "SVE",
            "an SVE vector length (a multiple of 128 bits from 128 to 2048)",
            "vector lengths", "sve_set_vl" in self.events))
        object.__setattr__(self, "sme_vls", _vector_lengths(
            self.sme_vls, SME_VL_CHOICES, "--sme-vls", self.sme, "sme", "SME",
            "a streaming vector length (a power of two from 128 to 2048 bits)",
            "streaming vector lengths", "sme_set_vl" in self.events))
        if self.preemption not in PREEMPTION_MODES:
            raise ValueError(f"--preemption {self.preemption!r}: expected one of "
                             f"{', '.join(PREEMPTION_MODES)}")
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
        if self.preempt not in PREEMPT_MODELS:
            raise ValueError(f"unknown preemption model {self.preempt!r}; known: "
                             f"{', '.join(PREEMPT_MODELS)}")
        if self.prove_locking and not self.trace_irqflags:
            raise ValueError("CONFIG_PROVE_LOCKING selects CONFIG_TRACE_IRQFLAGS: "
                             "PROVE_LOCKING=y needs TRACE_IRQFLAGS=y")
        if self.sve_guest and not self.sve:
            raise ValueError("--sve-guest needs --sve (the system supports SVE)")
        if self.sve_guest and not self.vcpus:
            raise ValueError("--sve-guest needs a vcpu (--vcpus 1 or 2)")
        if self.guest_fpmr and not self.fpmr:
            raise ValueError("--guest-fpmr needs --fpmr (the CPUs have FEAT_FPMR)")
        if self.guest_fpmr and not self.vcpus:
            raise ValueError("--guest-fpmr needs a vcpu (--vcpus 1 or 2)")
        # SVE guests are a v5.12+ configuration: KVM lifted v4.18's VHE-only rule for SVE
        # (8c8010d69c13 "KVM: arm64: Save/restore SVE state for nVHE").  nVHE with vcpus
        # without SVE is explored with the event about them (guest_hidden_sve), which the
        # 2018 variants refuse (checker.instance).
        if (self.sve and not self.vhe and self.vcpus and not self.sve_guest
                and "guest_hidden_sve" not in self.events):
            raise ValueError(
                "--sve with KVM needs VHE (v4.18's kvm_arch_check_sve_has_vhe refuses nVHE);"
                " use --vhe, or on a v6 variant --sve-guest or --event guest_hidden_sve")

    @property
    def user_tasks(self) -> int:
        """Every task with an mm: the plain user tasks, then the VMM threads."""
        return self.tasks + self.vmm_threads

    @property
    def vcpu_max_vl_index(self) -> int:
        """Index in ``sve_vls`` of an SVE vcpu's max VL (vcpu->arch.sve_max_vl =
        kvm_sve_max_vl, the largest length every CPU supports; 0 with one VL)."""
        return max(len(self.sve_vls) - 1, 0)

    @property
    def default_vl_index(self) -> int:
        """Index in ``sve_vls`` of sve_default_vl after find_supported_vector_length():
        the largest supported VL not above 512 bits (the smallest if none is)."""
        below = [i for i, vl in enumerate(self.sve_vls) if vl <= SVE_DEFAULT_VL]
        return below[-1] if below else 0

    @property
    def sme_default_vl_index(self) -> int:
        """Index in ``sme_vls`` of the SME default VL after find_supported_vector_length()
        (sme_setup()): the largest supported SVL not above 256 bits (the smallest if none
        is)."""
        below = [i for i, vl in enumerate(self.sme_vls) if vl <= SME_DEFAULT_VL]
        return below[-1] if below else 0

    @classmethod
    def with_kconfig(cls, preset: str, **fields: Any) -> Config:
        """A configuration with the Kconfig fields of ``preset`` (other fields as given)."""
        return cls(**{**kconfig_preset(preset), **fields})

    @property
    def kconfig(self) -> dict[str, Any]:
        return {"preempt": self.preempt, "prove_locking": self.prove_locking,
                "trace_irqflags": self.trace_irqflags}

    @property
    def kconfig_name(self) -> str | None:
        """The preset these Kconfig fields match, if any."""
        for name, fields in KCONFIG_PRESETS.items():
            if fields == self.kconfig:
                return name
        return None

    def describe_kconfig(self) -> str:
        """E.g. ``kconfig=debug (PREEMPT PROVE_LOCKING TRACE_IRQFLAGS)``."""
        opts = [self.preempt] + [n for n, on in (("PROVE_LOCKING", self.prove_locking),
                                                 ("TRACE_IRQFLAGS", self.trace_irqflags))
                                 if on]
        return f"kconfig={self.kconfig_name or 'custom'} ({' '.join(opts)})"

    def with_changes(self, **fields: Any) -> Config:
        return replace(self, **fields)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Config:
        """Inverse of `to_json`; also reads traces written before the Kconfig fields
        existed, whose ``lockdep`` flag meant PROVE_LOCKING (and, since the model had no
        TRACE_IRQFLAGS behaviour then, lockdep=false is the ``preempt`` preset)."""
        d = dict(data)
        if "lockdep" in d:
            old = d.pop("lockdep")
            if not any(k in d for k in ("preempt", "prove_locking", "trace_irqflags")):
                d.update(kconfig_preset("debug" if old else "preempt"))
        if "events" in d:
            d["events"] = tuple(d["events"])
        if "sve_vls" in d:
            d["sve_vls"] = tuple(d["sve_vls"])
        if "sme_vls" in d:
            d["sme_vls"] = tuple(d["sme_vls"])
        d.setdefault("preemption", "merged")  # written before steps were split
        return cls(**d)

    def describe(self) -> str:
        return (
            f"cpus={self.cpus} tasks={self.tasks} vmm_threads={self.vmm_threads} "
            f"vcpus={self.vcpus} {'VHE' if self.vhe else 'nVHE'}"
            f"{' SVE' if self.sve else ''}"
            f"{' VLs=' + ','.join(map(str, self.sve_vls)) if self.sve_vls else ''}"
            f"{' sve-guest' if self.sve_guest else ''}"
            f"{' SME' if self.sme else ''}"
            f"{' SVLs=' + ','.join(map(str, self.sme_vls)) if self.sme_vls else ''}"
            f"{' FPMR' if self.fpmr else ''}"
            f"{' guest-fpmr' if self.guest_fpmr else ''}"
            f" {self.describe_kconfig()}"
            f"{' aarch32-guest' if self.guest_aarch32 else ''}"
            f"{' events=' + ','.join(self.events) if self.events else ''}"
            f" preemption={self.preemption}"
        )

    def to_json(self) -> dict:
        d = {
            "cpus": self.cpus,
            "tasks": self.tasks,
            "vmm_threads": self.vmm_threads,
            "vcpus": self.vcpus,
            "vhe": self.vhe,
            "sve": self.sve,
            "preempt": self.preempt,
            "prove_locking": self.prove_locking,
            "trace_irqflags": self.trace_irqflags,
            "guest_aarch32": self.guest_aarch32,
            "events": list(self.events),
            "sve_vls": list(self.sve_vls),
            "preemption": self.preemption,
        }
        if self.sve_guest:  # only when set: traces written before it stay as they were
            d["sve_guest"] = True
        if self.sme:  # likewise
            d["sme"] = True
        if self.sme_vls:  # likewise
            d["sme_vls"] = list(self.sme_vls)
        for name in ("fpmr", "guest_fpmr"):  # likewise
            if getattr(self, name):
                d[name] = True
        return d
