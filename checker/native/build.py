"""Build and load the native engine's shared library for one model instance.

The C source (generated model part + ``engine.c``) is compiled with the system C compiler
(``$CC``, default ``gcc``) as ``-O1 -shared -fPIC`` (``FPCHECK_NATIVE_OPT`` sets the
level) into a cache directory (``$FPCHECK_CACHE``, else ``$XDG_CACHE_HOME/fpcheck`` or
``~/.cache/fpcheck``, else a temporary directory), named by a hash of the source and the
flags, so a configuration is compiled once and later runs only load it.  Loading uses
ctypes (standard library).

Profile-guided build (``pgo``, `explore --pgo`): the library is first compiled with
``-fprofile-generate``, a short training search runs in it (the caller's ``train``), its
counters are written (``fp_pgo_dump``), and the library is compiled again with
``-fprofile-use``; the result is cached under its own key like any other build.  gcc names
a profile after the output and the source file, so both builds run in one work directory
and the profile is copied to the second build's name (the instrumented library stays
loaded, so it is never overwritten in place).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

ENGINE_C = Path(__file__).with_name("engine.c")
# -O1, not -O2: the same search speed within this machine's noise (v4.18 --cpus 3,
# 4,845,548 states, one worker, alternated runs: 388k-496k states per CPU-second at -O1,
# 385k-454k at -O2) for 2/3 of the compile time (11.7 -> 7.8 CPU-s), and about half on
# the widest models (v6.10 signal with SVE under split preemption, 51,664 lines: 35.5 ->
# 19.8 CPU-s), which is most of the start-up of a run.  The profile-guided build, for
# long searches, keeps -O2.
CFLAGS = ["-shared", "-fPIC", "-pthread", "-std=gnu11", "-fno-strict-aliasing"]
# ``FPCHECK_NATIVE_OPT`` (0, 1 or 2; default 1) sets the level of the plain build.  The test
# suite uses 0: its hundred or so small configurations each compile once and search for well
# under a second, so compiling is most of their native cost (v4.18 one CPU: 1.42 CPU-s at
# -O1, 0.67 at -O0); tests/checker/native/test_native_opt.py checks that the levels agree.
OPT_ENV = "FPCHECK_NATIVE_OPT"
OPT_LEVELS = ("0", "1", "2")


def opt_flag() -> str:
    """The plain build's optimisation flag, from ``FPCHECK_NATIVE_OPT``."""
    level = os.environ.get(OPT_ENV, "1")
    if level not in OPT_LEVELS:
        raise NativeUnavailable(f"{OPT_ENV}={level!r} is not one of 0, 1, 2: set it to one"
                                " of those or unset it")
    return f"-O{level}"
PGO_GENERATE = ["-O2", "-fprofile-generate", "-fprofile-update=single", "-DFPCHECK_PGO_GENERATE"]
# partial training: code the training search did not run (traces, symmetry, POR) is
# optimised as without a profile, not for size
PGO_USE = ["-O2", "-fprofile-use", "-fprofile-partial-training", "-Wno-missing-profile"]


class NativeUnavailable(Exception):
    """No working C compiler (or the library failed to build/load): use the Python engine."""


def compiler() -> str | None:
    cc = os.environ.get("CC", "gcc")
    return shutil.which(cc)


def cache_dir() -> Path:
    env = os.environ.get("FPCHECK_CACHE")
    if env:
        base = Path(env)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".cache") / "fpcheck"
    for cand in (base / "native", Path(tempfile.gettempdir()) / f"fpcheck-{os.getuid()}"):
        try:
            cand.mkdir(parents=True, exist_ok=True)
            if os.access(cand, os.W_OK):
                return cand
        except OSError:
            continue
    raise NativeUnavailable("no writable cache directory for the compiled model")


def _compile(cc: str, flags: list[str], src: str, out: str) -> None:
    try:
        proc = subprocess.run([cc, *flags, "-o", out, src],
                              capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as exc:
        raise NativeUnavailable(f"the C compiler could not run: {exc}") from None
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or ["?"])[0]
        raise NativeUnavailable(f"the C compiler failed: {first}")


def _load(path: str) -> ctypes.CDLL:
    try:
        return _declare(ctypes.CDLL(path))
    except OSError as exc:
        raise NativeUnavailable(f"cannot load {path}: {exc}") from None


def build_library(model_source: str,
                  train: Callable[[ctypes.CDLL], None] | None = None
                  ) -> tuple[ctypes.CDLL, str]:
    """Compile (or reuse) the library for this generated model source; return it loaded.
    With ``train``, a profile-guided build (module docstring): ``train`` gets the
    instrumented library and runs a short search in it."""
    cc = compiler()
    if cc is None:
        raise NativeUnavailable(f"no C compiler ({os.environ.get('CC', 'gcc')}) on PATH")
    source = model_source + "\n" + ENGINE_C.read_text(encoding="utf-8")
    flags = [opt_flag(), *CFLAGS] + (PGO_USE if train else [])
    key = hashlib.sha256((" ".join([cc] + flags) + "\n" + source).encode()).hexdigest()[:24]
    d = cache_dir()
    lib = d / f"fpcheck-{key}.so"
    if not lib.exists():
        work = tempfile.mkdtemp(dir=d, prefix=".tmp-")
        try:
            src = os.path.join(work, "model.c")
            with open(src, "w", encoding="utf-8") as f:
                f.write(source)
            out = os.path.join(work, "lib.so")
            if train is not None:
                gen = os.path.join(work, "gen.so")
                _compile(cc, [opt_flag(), *CFLAGS, *PGO_GENERATE], src, gen)
                dll = _load(gen)
                train(dll)
                dll.fp_pgo_dump()  # gcc's counters: <work>/gen.so-model.gcda (gcc 11+)
                profile = os.path.join(work, "gen.so-model.gcda")
                if not os.path.exists(profile):
                    raise NativeUnavailable(
                        f"the profile-guided build's training wrote no {profile} (the"
                        f" compiler {cc} names profiles otherwise; gcc 11 or later is needed)")
                shutil.copyfile(profile, os.path.join(work, "lib.so-model.gcda"))
            _compile(cc, flags, src, out)
            os.replace(out, lib)  # atomic: concurrent runs never load half a file
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return _load(str(lib)), str(lib)


def _declare(dll: ctypes.CDLL) -> ctypes.CDLL:
    """The C signatures of the engine's entry points (engine.c)."""
    u64, vp = ctypes.c_uint64, ctypes.c_void_p
    p64 = ctypes.POINTER(u64)
    dll.fp_new.restype = vp
    dll.fp_new.argtypes = [ctypes.c_int, ctypes.c_int, u64, u64, ctypes.c_int,
                           ctypes.POINTER(ctypes.c_ubyte), ctypes.c_int, ctypes.c_int, p64,
                           ctypes.c_int]
    dll.fp_run.restype = ctypes.c_int
    dll.fp_run.argtypes = [vp]
    dll.fp_stop.argtypes = [vp]
    dll.fp_poll.argtypes = [vp, p64]
    dll.fp_counts.argtypes = [vp, p64, p64]
    dll.fp_rec.restype = ctypes.c_double
    dll.fp_rec.argtypes = [vp, ctypes.c_int, ctypes.c_int, p64]
    dll.fp_link.restype = ctypes.c_int
    dll.fp_link.argtypes = [vp, u64, p64]
    dll.fp_state.restype = ctypes.c_int
    dll.fp_state.argtypes = [vp, u64, p64]
    dll.fp_free.argtypes = [vp]
    dll.fp_targets.restype = ctypes.c_int
    dll.fp_targets.argtypes = [vp, p64, ctypes.c_int]
    dll.fp_find.restype = ctypes.c_int64
    dll.fp_find.argtypes = [vp, p64]
    dll.fp_nearest.restype = ctypes.c_int
    dll.fp_nearest.argtypes = [vp, p64, ctypes.POINTER(ctypes.c_uint16),
                               ctypes.POINTER(ctypes.c_uint8), p64, ctypes.c_int, p64]
    dll.fp_symmetry.restype = ctypes.c_int
    dll.fp_symmetry.argtypes = [vp, ctypes.c_int]
    return dll
