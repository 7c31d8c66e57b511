"""Suite-wide settings.

The native engine compiles each configuration once (checker/native/build.py); the suite
has about a hundred small ones that each search for well under a second, so on a fresh
machine compiling is most of their cost.  The suite builds at -O0 unless the caller chose a
level (``FPCHECK_NATIVE_OPT``): tests/checker/native/test_native_opt.py shows the levels
give the same search, and subprocesses (the CLI tests) inherit the setting.
"""

import os
import shutil
import tempfile

import pytest

from checker.instance import BUILD_CACHE_ENV
from checker.native.build import OPT_ENV

os.environ.setdefault(OPT_ENV, "0")
_BUILD_DIR = pytest.StashKey[str]()


# Builds shared by the session's processes (checker/instance.py, BUILD_CACHE_ENV): the
# controller chooses a fresh directory before xdist starts its workers, which inherit the
# environment (so do the CLI tests' subprocesses); it is removed at the end.
def pytest_configure(config) -> None:  # noqa: ANN001 - pytest's Config
    if hasattr(config, "workerinput") or BUILD_CACHE_ENV in os.environ:
        return
    folder = tempfile.mkdtemp(prefix="fpcheck-builds-")
    os.environ[BUILD_CACHE_ENV] = folder
    config.stash[_BUILD_DIR] = folder


def pytest_unconfigure(config) -> None:  # noqa: ANN001
    folder = config.stash.get(_BUILD_DIR, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop(BUILD_CACHE_ENV, None)
