"""Suite-wide settings.

The native engine compiles each configuration once (checker/native/build.py); the suite
has about a hundred small ones that each search for well under a second, so on a fresh
machine compiling is most of their cost.  The suite builds at -O0 unless the caller chose a
level (``FPCHECK_NATIVE_OPT``): tests/checker/native/test_native_opt.py shows the levels
give the same search, and subprocesses (the CLI tests) inherit the setting.
"""

import os

from checker.native.build import OPT_ENV

os.environ.setdefault(OPT_ENV, "0")
