"""A user's variant files: chosen without --variant when alone, never shadowing a built-in,
errors with file:line and the likely fix, recorded in traces so replay finds them."""

from __future__ import annotations

import json
import shutil
import textwrap

import pytest

from checker.cli import main

HEAD = "from model.variants import get_variant\n\n"

# put_fp without its bh pair: fpsimd_save's WARN fails (a violation to replay later)
NO_BH = HEAD + textwrap.dedent('''
    def kvm_arch_vcpu_put_fp(k, vcpu):
        v = k.vcpu(vcpu)
        with k.If(v.fp_enabled.eq(1)):
            k.fpsimd_save()
            k.fpsimd_flush_cpu_state()


    VARIANT = get_variant("v4.18").derive("no-bh", "put_fp unprotected",
                                          kvm_arch_vcpu_put_fp=kvm_arch_vcpu_put_fp)
    ''')


def _run(tmp_path, text: str, *extra: str) -> tuple[int, str, str]:
    f = tmp_path / "v.py"
    f.write_text(text)
    code = main(["explore", "--variant-file", str(f), "--cpus", "1", "--nvhe", "--quiet",
                 "--out", str(tmp_path / "out"), *extra])
    return code, str(f), ""


BAD_SIGNATURE = HEAD + "\n\ndef kvm_arch_vcpu_put_fp(k):\n    k.fpsimd_save()\n\n\n" \
    'VARIANT = get_variant("seed").derive("x", "x",\n' \
    '                                     kvm_arch_vcpu_put_fp=kvm_arch_vcpu_put_fp)\n'


def test_single_variant_file_needs_no_variant_option(tmp_path, capsys) -> None:
    code, _, _ = _run(tmp_path, NO_BH)
    out = capsys.readouterr().out
    assert code == 1 and "== variant no-bh:" in out


def test_several_variants_need_variant_option(tmp_path, capsys) -> None:
    text = HEAD + 'VARIANTS = [get_variant("v4.18").derive("a", "x"),\n' \
                  '            get_variant("v4.18").derive("b", "y")]\n'
    code, _, _ = _run(tmp_path, text)
    err = capsys.readouterr().err
    assert code == 2 and "define 2 variants (a, b): choose one with --variant" in err
    assert _run(tmp_path, text, "--variant", "b")[0] == 0


def test_file_variant_cannot_take_a_builtin_name(tmp_path, capsys) -> None:
    code, f, _ = _run(tmp_path, HEAD + 'VARIANT = get_variant("seed").derive("v4.18", "x")\n')
    err = capsys.readouterr().err
    assert code == 2 and f"{f} defines 'v4.18', the name of a built-in variant" in err


@pytest.mark.parametrize("body,expect", [
    ("    with k.If(k.vcpu(vcpu).fp_enabled.eq(1) and k.test_thread_flag('TIF_SVE')):\n"
     "        k.fpsimd_save()\n",
     ":6: in kvm_arch_vcpu_put_fp: `with k.If(k.vcpu(vcpu).fp_enabled.eq(1) and"),
    ("    if not k.test_thread_flag('TIF_SVE'):\n        k.fpsimd_save()\n",
     ":6: in kvm_arch_vcpu_put_fp: `if not k.test_thread_flag('TIF_SVE'):`"),
])
def test_python_truth_value_error_names_file_line_and_fix(tmp_path, capsys, body, expect):
    text = HEAD + "\n\ndef kvm_arch_vcpu_put_fp(k, vcpu):\n" + body + \
        '\n\nVARIANT = get_variant("seed").derive("x", "x", ' \
        'kvm_arch_vcpu_put_fp=kvm_arch_vcpu_put_fp)\n'
    code, f, _ = _run(tmp_path, text)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert f"{f}{expect}" in err
    assert "`&`, `|`, `~` instead of `and`, `or`, `not`" in err
    assert "Traceback" not in err


def test_wrong_signature_points_at_the_definition(tmp_path, capsys) -> None:
    text = BAD_SIGNATURE
    code, f, _ = _run(tmp_path, text)
    err = capsys.readouterr().err
    assert code == 2 and f"{f}:5: the model calls k.kvm_arch_vcpu_put_fp(...)" in err


def test_call_of_a_function_no_variant_has_names_the_step(tmp_path, capsys) -> None:
    """A step reaching a function missing from the variant's table: the line names the
    user's call, the step and the fix (no built-in variant models a misspelt name)."""
    text = HEAD + "\n\ndef kvm_arch_vcpu_put_fp(k, vcpu):\n    k.fpsimd_saev()\n" \
        '\n\nVARIANT = get_variant("v4.18").derive("x", "x", ' \
        'kvm_arch_vcpu_put_fp=kvm_arch_vcpu_put_fp)\n'
    code, f, _ = _run(tmp_path, text)
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert f"{f}:6: in kvm_arch_vcpu_put_fp: `k.fpsimd_saev()`" in err
    assert "step schedule calls fpsimd_saev(), which this variant does not model;" \
        " add the function to the variant" in err


def test_syntax_error_has_file_line_and_debug_traceback(tmp_path, capsys) -> None:
    code, f, _ = _run(tmp_path, HEAD + 'VARIANT = get_variant("seed").derive("s", "x"\n')
    err = capsys.readouterr().err
    assert code == 2 and f"{f}:3:" in err and "SyntaxError" in err
    text = BAD_SIGNATURE
    assert _run(tmp_path, text, "--debug")[0] == 2
    assert "Traceback" in capsys.readouterr().err


def test_trace_records_variant_file_and_replay_finds_it(tmp_path, capsys) -> None:
    code, f, _ = _run(tmp_path, NO_BH)
    assert code == 1
    # put_fp without protection: an IRQ inside it now also loses/leaks state (issue 7,
    # item 7), so there are several traces; the kernel_asserts one is used here.
    (trace,) = (tmp_path / "out").glob("*-kernel_asserts-*.json")
    data = json.loads(trace.read_text())
    assert data["variant_file"]["path"] == f and len(data["variant_file"]["sha256"]) == 64
    capsys.readouterr()
    assert main(["replay", str(trace)]) == 1  # finds the file by itself
    assert "REPRODUCES" in capsys.readouterr().out
    moved = tmp_path / "elsewhere.py"
    shutil.move(f, moved)
    assert main(["replay", str(trace)]) == 2
    err = capsys.readouterr().err
    assert f"made with variant 'no-bh' from {f}, which does not exist here: pass " \
           "--variant-file" in err
    assert main(["replay", str(trace), "--variant-file", str(moved)]) == 1
