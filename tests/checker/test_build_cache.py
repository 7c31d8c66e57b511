"""The build cache on disk (checker/instance.py, BUILD_CACHE_ENV): a build loaded from it
is the same model as a fresh one, and what it must not serve it does not."""

from __future__ import annotations

from pathlib import Path

import pytest

import model.ctx
from checker.explicit.explore import explore_bfs
from checker.instance import (
    BUILD_CACHE_ENV,
    Instance,
    _disk_path,
    build_fingerprint,
    clear_build_cache,
)
from model.config import Config
from model.variants import get_variant
from properties.fp import PROPERTY_NAMES

CFG = Config(cpus=1, tasks=1, vhe=False)


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(BUILD_CACHE_ENV, str(tmp_path))
    clear_build_cache()
    yield tmp_path
    clear_build_cache()


def _fresh(variant: str, cfg: Config = CFG) -> Instance:
    """A build of this process's own, not served by either cache."""
    clear_build_cache()
    return Instance(cfg, get_variant(variant))


def test_a_loaded_build_is_the_same_model(cache_dir: Path) -> None:
    stored = _fresh("v4.18")
    files = list(cache_dir.glob("*.pickle"))
    assert len(files) == 1
    loaded = _fresh("v4.18")  # served from the file
    assert loaded.actions[0] is not stored.actions[0]
    assert build_fingerprint(loaded) == build_fingerprint(stored)
    a, _ = explore_bfs(stored, list(PROPERTY_NAMES))
    b, _ = explore_bfs(loaded, list(PROPERTY_NAMES))
    assert (b.stats.states, b.stats.transitions) == (a.stats.states, a.stats.transitions)
    assert b.complete and [b.verdict(p) for p in PROPERTY_NAMES] == \
        [a.verdict(p) for p in PROPERTY_NAMES]
    assert b.coverage == a.coverage


def test_a_broken_file_is_rebuilt(cache_dir: Path) -> None:
    stored = _fresh("v4.17")
    (path,) = cache_dir.glob("*.pickle")
    path.write_bytes(b"not a pickle")
    again = _fresh("v4.17")
    assert build_fingerprint(again) == build_fingerprint(stored)


def test_only_builtin_variants_are_stored(cache_dir: Path) -> None:
    # A test's or user's variant may carry a built-in's name with other functions.
    impostor = get_variant("v4.18").derive("v4.18", "the same name, another table")
    clear_build_cache()
    Instance(CFG, impostor)
    assert not list(cache_dir.glob("*.pickle"))


@pytest.mark.parametrize("switch,value", [("REPLAY_IRQS", False), ("CHECK_IRQ_REPLAY", True)])
def test_builds_with_debug_switches_are_not_stored(cache_dir: Path, switch: str, value: bool,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests that set model.ctx's switches also patch its functions (test_build_equivalence)
    monkeypatch.setattr(model.ctx, switch, value)
    _fresh("v4.17")
    assert not list(cache_dir.glob("*.pickle"))


def test_off_without_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BUILD_CACHE_ENV, raising=False)
    assert _disk_path(CFG, get_variant("v4.17")) is None
    monkeypatch.setenv(BUILD_CACHE_ENV, "")
    assert _disk_path(CFG, get_variant("v4.17")) is None
