"""Strengthening lemmas: state invariants that make the properties inductive.

Each lemma is named, has a one-line reason, and is built as a model `Expr` over a `Layout`
(like properties/fp.py), so both engines evaluate it: the explicit engine checks it on
every explored state (tests/checker/smt/test_lemmas.py), the SMT engine proves it by
induction together with the properties (checker.smt.induction).  A lemma names the
variants it is claimed for (``None``: all); a variant derived from one of them (e.g. a
user's patch on the seed) inherits them, so a broken patch is refused, not proved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from model.dsl import Expr, all_of
from model.state import Layout


@dataclass(frozen=True)
class Lemma:
    name: str
    reason: str
    build: Callable[[Layout], Expr]
    variants: tuple[str, ...] | None = None


LEMMAS: tuple[Lemma, ...] = ()


def lemmas_for(layout: Layout, variant) -> list[Lemma]:  # noqa: ANN001 - model.variant.Variant
    """The lemmas claimed for ``variant`` (by its name or its parent's)."""
    names = {variant.name, variant.parent}
    return [lem for lem in LEMMAS if lem.variants is None or names & set(lem.variants)]


__all__ = ["LEMMAS", "Lemma", "all_of", "lemmas_for"]
