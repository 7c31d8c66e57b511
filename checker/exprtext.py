"""Model expressions in a compact, C-like notation, for reports (CTIs, call trees)."""

from __future__ import annotations

from model.dsl import AddC, And, Const, Eq, Expr, Input, Ite, Not, Or, Var


def expr_text(e: Expr) -> str:
    """A model expression in a compact, C-like notation."""
    if isinstance(e, Var):
        return e.name.split("#")[0] if e.local else e.name
    if isinstance(e, Const):
        return e.dom.labels[e.value]
    if isinstance(e, Input):
        return e.name.split("#")[0]
    if isinstance(e, Not):
        if isinstance(e.a, Eq):
            return f"{expr_text(e.a.a)} != {expr_text(e.a.b)}"
        inner = expr_text(e.a)
        return f"!{inner}" if isinstance(e.a, (Var, Input)) else f"!({inner})"
    if isinstance(e, Eq):
        return f"{expr_text(e.a)} == {expr_text(e.b)}"
    if isinstance(e, And):
        return " && ".join(_paren(a) for a in e.args)
    if isinstance(e, Or):
        if len(e.args) == 2 and isinstance(e.args[0], Not):
            return f"{_paren(e.args[0].a)} -> {_paren(e.args[1])}"
        return " || ".join(_paren(a) for a in e.args)
    if isinstance(e, Ite):
        return f"({expr_text(e.c)} ? {expr_text(e.a)} : {expr_text(e.b)})"
    if isinstance(e, AddC):
        return f"{expr_text(e.a)} {'+' if e.k >= 0 else '-'} {abs(e.k)}"
    return type(e).__name__


def _paren(e: Expr) -> str:
    t = expr_text(e)
    return f"({t})" if isinstance(e, (And, Or)) else t
