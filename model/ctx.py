"""`Ctx`: what a modelled kernel function writes its statements into.

A step is built by calling modelled kernel functions with a `Ctx` bound to one CPU and
its current task.  Kernel functions call each other as ``k.fpsimd_save()``: the name is
looked up in the variant's function table, so a variant replaces a function everywhere by
giving a new definition under the same name.  Primitive statements (assignments,
conditionals, assertions, nondeterministic inputs) are methods of `Ctx`; everything with
a C name lives in `model.kernel`.

Conditionals read like the C they model::

    with k.If(k.test_thread_flag("TIF_FOREIGN_FPSTATE")):
        ...
    with k.Else():
        ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from model.dsl import (
    BOOL,
    Assert,
    Assign,
    Check,
    Const,
    Expr,
    If,
    Input,
    Mark,
    ModelError,
    Retire,
    Stmt,
    Var,
    lift,
)
from model.state import CpuVars, Image, Layout, TaskVars, VcpuVars

if TYPE_CHECKING:
    from model.variant import Variant

THREAD_FLAGS = ("TIF_FOREIGN_FPSTATE", "TIF_SVE")


class Ctx:
    """Statement builder for one step, bound to a CPU and to the task current on it."""

    def __init__(self, layout: Layout, variant: Variant, cpu: int, current: int) -> None:
        self.S = layout
        self.config = layout.config
        self.variant = variant
        self.cpu = cpu
        self.current = current
        self._blocks: list[list[Stmt]] = [[]]
        self._last_if: If | None = None
        self.inputs: list[str] = []
        self.functions: list[str] = []
        self._locals = 0
        # Build-time knowledge: statements being emitted run inside __do_softirq().
        self.serving_softirq = 0

    # ------------------------------------------------------------------ kernel functions
    def __getattr__(self, name: str) -> Callable[..., Any]:
        fn = self.variant.functions.get(name)
        if fn is None:
            raise AttributeError(f"variant {self.variant.name!r} has no function {name!r}")

        def call(*args: Any, **kwargs: Any) -> Any:
            if name not in self.functions:
                self.functions.append(name)
            self.emit(Mark(name))
            return fn(self, *args, **kwargs)

        return call

    # ------------------------------------------------------------------ statements
    def emit(self, st: Stmt) -> None:
        self._blocks[-1].append(st)
        self._last_if = None

    def set(self, var: Var | Expr, value: Expr | str | int | bool) -> None:
        if not isinstance(var, Var):
            raise ModelError(f"assignment to a constant ({var!r}) in this configuration")
        self.emit(Assign(var, lift(value, var.dom)))

    def let(self, name: str, value: Expr) -> Var:
        """A step-local temporary (a C local variable), evaluated now."""
        self._locals += 1
        tmp = Var(f"{name}#{self._locals}", value.dom, -1, local=True)
        self.emit(Assign(tmp, value))
        return tmp

    @contextmanager
    def If(self, cond: Expr) -> Iterator[None]:
        self._blocks.append([])
        try:
            yield
        finally:
            body = tuple(self._blocks.pop())
        node = If(lift(cond, BOOL), body, ())
        self.emit(node)
        self._last_if = node

    @contextmanager
    def Else(self) -> Iterator[None]:
        node = self._last_if
        if node is None or node.els:
            raise ModelError("Else() must follow an If() block directly")
        self._blocks.append([])
        try:
            yield
        finally:
            body = tuple(self._blocks.pop())
        block = self._blocks[-1]
        block[block.index(node)] = If(node.cond, node.then, body)
        self._last_if = None

    def check(self, ok: Expr, kind: str, function: str, text: str) -> None:
        """A kernel assertion; ``ok`` must hold (WARN_ON(x) is check(~x, ...))."""
        if kind == "lockdep" and not self.config.lockdep:
            return
        cid = f"{function}: {kind} {text}"
        self.emit(Assert(lift(ok, BOOL), Check(cid, kind, function, text)))

    def nondet(self, what: str) -> Expr:
        """A boolean chosen by the environment when the step fires (e.g. a pending softirq)."""
        name = f"{what}#{len(self.inputs) + 1}"
        self.inputs.append(name)
        return Input(name)

    def goto(self, pc: str) -> None:
        """Move current to another program point (see model.state.PCS)."""
        self.set(self.cur.pc, pc)

    def body(self) -> tuple[Stmt, ...]:
        if len(self._blocks) != 1:
            raise ModelError("unbalanced If/Else blocks")
        return tuple(self._blocks[0])

    # ------------------------------------------------------------------ accessors
    @property
    def this_cpu(self) -> CpuVars:
        return self.S.cpu[self.cpu]

    @property
    def cur(self) -> TaskVars:
        return self.S.tasks[self.current]

    def task(self, t: int) -> TaskVars:
        return self.S.tasks[t]

    def vcpu(self, v: int) -> VcpuVars:
        return self.S.vcpus[v]

    def const(self, var: Var | Expr, label: str | int | bool) -> Expr:
        return lift(label, var.dom)

    @property
    def true(self) -> Expr:
        return Const(BOOL, 1)

    @property
    def false(self) -> Expr:
        return Const(BOOL, 0)

    # ------------------------------------------------------------------ thread flags
    def _flag(self, t: TaskVars, flag: str) -> Var | Expr:
        if flag == "TIF_FOREIGN_FPSTATE":
            return t.tif_foreign
        if flag == "TIF_SVE":
            return t.tif_sve
        raise ModelError(f"unknown thread flag {flag}")

    def test_thread_flag(self, flag: str) -> Expr:
        return lift(self._flag(self.cur, flag), BOOL)

    def test_tsk_thread_flag(self, t: int, flag: str) -> Expr:
        return lift(self._flag(self.task(t), flag), BOOL)

    def update_tsk_thread_flag(self, t: int, flag: str, value: Expr | bool) -> None:
        var = self._flag(self.task(t), flag)
        if isinstance(var, Var):
            self.set(var, value)
        # A flag that is constant in this configuration (TIF_SVE without SVE, or a
        # kernel thread's unused flag) stays constant: writing false to it is a no-op.

    def set_thread_flag(self, flag: str) -> None:
        self.update_tsk_thread_flag(self.current, flag, True)

    def clear_thread_flag(self, flag: str) -> None:
        self.update_tsk_thread_flag(self.current, flag, False)

    def update_thread_flag(self, flag: str, value: Expr | bool) -> None:
        self.update_tsk_thread_flag(self.current, flag, value)

    # ------------------------------------------------------------------ FP data movement
    def copy_image(self, dst: Image, src: Image, *, v: bool = True, fpsr: bool = True,
                   zhi: str = "copy") -> None:
        """Copy register-image slices; ``zhi`` is copy, zero (an FPSIMD load) or keep."""
        if v:
            self.set(dst.v, src.v)
        if fpsr:
            self.set(dst.fpsr, src.fpsr)
        if isinstance(dst.zhi, Var):
            if zhi == "copy":
                self.set(dst.zhi, src.zhi)
            elif zhi == "zero":
                self.set(dst.zhi, Const(self.S.VALUE, self.S.ZERO))

    def store_through(self, ptr: Expr, write: Callable[[Image], None]) -> None:
        """Apply ``write`` to the image a `struct user_fpsimd_state *` points to.

        A NULL pointer is never dereferenced by the modelled code (the callers test it or
        the kernel would oops); dereferencing NULL is reported as a BUG.
        """
        targets = self.S.fpstate_targets()
        self.check(ptr.ne("NULL"), "BUG", "NULL dereference", "FP save/restore through NULL")
        for value, img in targets:
            with self.If(ptr.eq(value)):
                write(img)

    def fp_write(self, owner: int, regs: Image, *, zhi: bool) -> None:
        """A context (user task or guest) writes its FP registers: a new generation.

        Every copy of the owner's previous latest value becomes ``~`` (superseded); the
        registers then hold the owner's latest.  An FPSIMD (non-SVE) write zeroes the Z
        bits above 127.  This is the ghost-state monitor of the properties: the modelled
        kernel code never reads it.
        """
        latest = Const(self.S.VALUE, self.S.latest(owner))
        self.supersede(owner)
        self.set(regs.v, latest)
        self.set(regs.fpsr, latest)
        if isinstance(regs.zhi, Var):
            self.set(regs.zhi, latest if zhi else Const(self.S.VALUE, self.S.ZERO))
        if owner < self.config.user_tasks:
            ghost = self.S.tasks[owner].zhi_expected
            if isinstance(ghost, Var):
                self.set(ghost, 1 if zhi else 0)

    def supersede(self, owner: int) -> None:
        """Ghost monitor: every copy of ``owner``'s latest value becomes ``~`` (older)."""
        for img in self.S.all_images():
            for slot in img.slots():
                self.set(slot, Retire(slot, self.S.latest(owner), self.S.stale(owner)))

    def fp_write_memory(self, task: int, slots: list[Var], *, zhi: bool) -> None:
        """Someone else (a ptrace tracer) writes new FP values for ``task`` into its saved
        state in memory: a new generation of ``task``'s values, in ``slots``."""
        self.supersede(task)
        for slot in slots:
            self.set(slot, Const(self.S.VALUE, self.S.latest(task)))
        ghost = self.S.tasks[task].zhi_expected
        if isinstance(ghost, Var):
            self.set(ghost, 1 if zhi else 0)
