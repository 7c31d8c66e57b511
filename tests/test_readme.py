"""The README's "Checking your own patch" example works as written."""

from __future__ import annotations

import re
from pathlib import Path

from checker.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_readme_variant_example(tmp_path, capsys) -> None:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```python\n(# my_fix.py\n.*?)```", text, re.S).group(1)
    f = tmp_path / "my_fix.py"
    f.write_text(block)
    code = main(["explore", "--variant-file", str(f), "--variant", "my-fix", "--cpus", "1",
                 "--quiet", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "kernel_asserts  holds" in out
