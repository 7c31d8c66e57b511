"""Render a trace's HTML view in headless Chromium and save a PNG screenshot.

    python bench/screenshot_html.py TRACE.json OUT.png [--width 1500] [--height 1200]

Needs the Debian package ``chromium`` (or chromium-browser / google-chrome on PATH).
Chromium runs with networking features off and a throw-away profile; the page itself
references nothing outside the file.  Exit 0 on success, 2 if no browser was found.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(html_path: Path, png_path: Path, width: int = 1500, height: int = 1200,
               browser: str | None = None, timeout: float = 90) -> None:
    browser = browser or find_browser()
    if browser is None:
        raise FileNotFoundError("no chromium found on PATH")
    with tempfile.TemporaryDirectory(prefix="fpcheck-chromium-") as profile:
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--hide-scrollbars",
               f"--user-data-dir={profile}", f"--screenshot={png_path.resolve()}",
               f"--window-size={width},{height}", html_path.resolve().as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or not png_path.exists():
        raise RuntimeError(f"chromium failed ({proc.returncode}): {proc.stderr[-500:]}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("trace")
    p.add_argument("out", help="PNG file to write")
    p.add_argument("--width", type=int, default=1500)
    p.add_argument("--height", type=int, default=0,
                   help="window height (default: enough for the whole trace)")
    p.add_argument("--html", help="keep the rendered HTML here (default: a temp file)")
    args = p.parse_args(argv)

    from checker.inspect.html import render_html
    from checker.inspect.load import load

    if find_browser() is None:
        print("error: no chromium on PATH (apt-get install chromium)", file=sys.stderr)
        return 2
    trace = load(args.trace)
    height = args.height or 560 + 92 * (len(trace.steps) + 1)
    with tempfile.TemporaryDirectory() as tmp:
        html_path = Path(args.html) if args.html else Path(tmp) / "trace.html"
        html_path.write_text(render_html(trace, source=args.trace), encoding="utf-8")
        screenshot(html_path, Path(args.out), args.width, height)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
