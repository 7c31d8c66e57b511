"""Build and load the native engine's shared library for one model instance.

The C source (generated model part + ``engine.c``) is compiled with the system C compiler
(``$CC``, default ``gcc``) as ``-O2 -shared -fPIC`` into a cache directory
(``$FPCHECK_CACHE``, else ``$XDG_CACHE_HOME/fpcheck`` or ``~/.cache/fpcheck``, else a
temporary directory), named by a hash of the source and the flags, so a configuration is
compiled once and later runs only load it.  Loading uses ctypes (standard library).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

ENGINE_C = Path(__file__).with_name("engine.c")
CFLAGS = ["-O2", "-shared", "-fPIC", "-pthread", "-std=gnu11", "-fno-strict-aliasing"]


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


def build_library(model_source: str) -> tuple[ctypes.CDLL, str]:
    """Compile (or reuse) the library for this generated model source; return it loaded."""
    cc = compiler()
    if cc is None:
        raise NativeUnavailable(f"no C compiler ({os.environ.get('CC', 'gcc')}) on PATH")
    source = model_source + "\n" + ENGINE_C.read_text(encoding="utf-8")
    key = hashlib.sha256((" ".join([cc] + CFLAGS) + "\n" + source).encode()).hexdigest()[:24]
    d = cache_dir()
    lib = d / f"fpcheck-{key}.so"
    if not lib.exists():
        fd, tmp_c = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=".c")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(source)
        tmp_so = tmp_c[:-2] + ".so"
        try:
            proc = subprocess.run([cc, *CFLAGS, "-o", tmp_so, tmp_c],
                                  capture_output=True, text=True, timeout=600)
            if proc.returncode != 0:
                first = (proc.stderr.strip().splitlines() or ["?"])[0]
                raise NativeUnavailable(f"the C compiler failed: {first}")
            os.replace(tmp_so, lib)  # atomic: concurrent runs never load half a file
        except (OSError, subprocess.SubprocessError) as exc:
            raise NativeUnavailable(f"the C compiler could not run: {exc}") from None
        finally:
            for p in (tmp_c, tmp_so):
                try:
                    os.unlink(p)
                except FileNotFoundError:
                    pass
    try:
        dll = ctypes.CDLL(str(lib))
    except OSError as exc:
        raise NativeUnavailable(f"cannot load {lib}: {exc}") from None
    u64, vp = ctypes.c_uint64, ctypes.c_void_p
    p64 = ctypes.POINTER(u64)
    dll.fp_new.restype = vp
    dll.fp_new.argtypes = [ctypes.c_int, ctypes.c_int, u64, u64, ctypes.c_int,
                           ctypes.c_uint32, ctypes.c_int, ctypes.c_int, p64, ctypes.c_int]
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
    dll.fp_symmetry.restype = ctypes.c_int
    dll.fp_symmetry.argtypes = [vp, ctypes.c_int]
    return dll, str(lib)
