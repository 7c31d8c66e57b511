"""Probe variants for v6.1 with SME: search devices, not kernel versions (as
counterexamples/probes.py).  Load with ``--variant-file counterexamples/probes_v61.py``."""

from __future__ import annotations

from model.ctx import Ctx
from model.variants import get_variant, v6_1_sme


def ssve_set_with_tif_sme(k: Ctx, target: int) -> None:
    """v6.1's NT_ARM_SSVE write (`model.variants.v6_1_sme.ssve_set_v61`) that also sets the
    tracee's TIF_SME, as 5d0a8d2fba50 does (its sme_alloc(target, false) keeps ZA, which
    the model's write leaves as it is): closes the 7-step v6.1-ssve-no_loss-* finding so
    that the next shortest shows."""
    k.update_tsk_thread_flag(target, "TIF_SME", True)
    v6_1_sme.ssve_set_v61(k, target)


V61_SSVE_TIF_SME = get_variant("v6.1").derive(
    "probe-v6.1-ssve-tif-sme", "v6.1 whose NT_ARM_SSVE write sets TIF_SME (5d0a8d2fba50)",
    ssve_set=ssve_set_with_tif_sme)

VARIANTS = [V61_SSVE_TIF_SME]
