"""docs/ci.md: the CI recipe's commands work as written, on a passing and a failing
variant (the README's lemma example, and the same patch with ctxsync broken)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _commands() -> dict[str, str]:
    text = (ROOT / "docs" / "ci.md").read_text()
    yaml = re.search(r"```yaml\n(.*?)```", text, re.S).group(1)
    steps = re.findall(r"- name: (.*?)\n(?:\s+if: .*\n)?\s+run: (.*)", yaml)
    return {name: cmd for name, cmd in steps if "pip install" not in cmd}


def _run(tmp: Path, variant_text: str) -> dict[str, int]:
    (tmp / "fp").mkdir()
    (tmp / "fp" / "my_fix.py").write_text(variant_text)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    codes = {}
    for name, cmd in _commands().items():
        # the recipe as written, on the smallest configuration (CI time)
        cmd = cmd.replace("python -m", f"{sys.executable} -m").replace(
            "--variant-file fp/my_fix.py", "--variant-file fp/my_fix.py --cpus 1 --nvhe")
        codes[name] = subprocess.run(["bash", "-c", cmd], cwd=tmp, env=env,
                                     capture_output=True, text=True, timeout=600).returncode
    return codes


def _readme_variant() -> str:
    text = (ROOT / "README.md").read_text()
    return re.search(r"```python\n(# keep_host.py\n.*?)```", text, re.S).group(1)


def test_ci_recipe_passes_on_a_good_variant(tmp_path) -> None:
    codes = _run(tmp_path, _readme_variant())
    assert codes["explore"] == 0 and codes["prove"] == 0, codes
    assert (tmp_path / "fpcheck-out" / "explore.xml").is_file()
    assert (tmp_path / "fpcheck-out" / "prove.xml").is_file()


def test_ci_recipe_fails_with_report_and_pictures(tmp_path) -> None:
    broken = _readme_variant().replace(
        "    k.__fpsimd_restore_state(v.fp_regs)\n", "")  # hyp no longer loads the guest
    codes = _run(tmp_path, broken)
    assert codes["explore"] == 1 and codes["prove"] == 1, codes
    out = tmp_path / "fpcheck-out"
    assert list(out.glob("*.json")) and list(out.glob("*.html"))
    assert "<failure" in (out / "explore.xml").read_text()
