"""Differential testing: the interpreter is the oracle.

`differential(fn, *args)` runs fn in the plain interpreter, then runs a
fresh copy of it (new code object, so nothing is cached) with the JIT on at
threshold 0, and compares what came out: the return value (by ==, and by
repr), or the exception's type, message and traceback (function names and
line numbers).  It also checks that the copy really ran compiled, so a test
cannot pass by silently falling back.
"""

import os
import subprocess
import sys
import traceback
import types

import pyjion_clr


class Outcome:
    def __init__(self, value=None, exc=None):
        self.value = value
        self.exc = exc

    def describe(self):
        if self.exc is None:
            return ("value", self.value, repr(self.value))
        frames = [(f.name, f.lineno) for f in traceback.extract_tb(self.exc.__traceback__)]
        # drop the harness's own frame
        frames = [fr for fr in frames if fr[0] != "_run"]
        return ("raised", type(self.exc), str(self.exc), frames)


def _run(fn, args, kwargs):
    try:
        return Outcome(value=fn(*args, **kwargs))
    except Exception as exc:      # the outcome under test
        return Outcome(exc=exc)


def translated(fn, compact=0, **options):
    """The translator of fn's code (at a compaction level, with other
    Translator options), after translating it without site caches, and the
    method it made."""
    from pyjion_clr import _bytecode, _native, _translate
    code = fn.__code__
    target = dict(_native.target_description(), site_caches=0)
    target.update(_native.code_facts(code))
    translator = _translate.Translator(code, _bytecode.analyze(code), target, compact=compact,
                                       **options)
    return translator, translator.translate()


def il_instructions(fn, compact=0, **options):
    """IL instructions of fn's translation (as `translated` makes it)."""
    return translated(fn, compact, **options)[1].shape["instructions"]


def fresh_copy(fn):
    code = fn.__code__.replace()
    copy = types.FunctionType(code, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__kwdefaults__ = fn.__kwdefaults__
    copy.__qualname__ = fn.__qualname__
    return copy


WARM_CALLS = 10     # 3.11 quickens after 8 calls; the next specialises


def warmed_copy(fn, *args):
    """A fresh copy of fn run WARM_CALLS times in the interpreter (hook
    installed, so the calls are counted), then compiled on the next call."""
    copy = fresh_copy(fn)
    pyjion_clr.config(threshold=WARM_CALLS)
    pyjion_clr.enable()
    for _ in range(WARM_CALLS):
        copy(*args)
    assert not pyjion_clr.info(copy).compiled
    copy(*args)
    assert pyjion_clr.info(copy).compiled
    return copy


def listing(fn):
    """pyjion_clr.dis(fn) as a str."""
    import io
    out = io.StringIO()
    pyjion_clr.dis(fn, file=out)
    return out.getvalue()


def run_interpreted(fn, *args, **kwargs):
    was = pyjion_clr.is_enabled()
    pyjion_clr.disable()
    try:
        return _run(fn, args, kwargs)
    finally:
        if was:
            pyjion_clr.enable()


def run_compiled(fn, *args, **kwargs):
    old = pyjion_clr.config()["threshold"]
    pyjion_clr.config(threshold=0)
    pyjion_clr.enable()
    try:
        return _run(fn, args, kwargs)
    finally:
        pyjion_clr.disable()
        pyjion_clr.config(threshold=old)


def differential(fn, *args, expect_compiled=True, **kwargs):
    """Run both ways and assert they agree; returns the compiled outcome."""
    plain = run_interpreted(fn, *args, **kwargs)
    copy = fresh_copy(fn)
    jitted = run_compiled(copy, *args, **kwargs)
    info = pyjion_clr.info(copy)
    if expect_compiled:
        assert info.compiled, "expected %s to run compiled: %r" % (fn.__name__, info)
        assert info.compiled_calls >= 1
    p, j = plain.describe(), jitted.describe()
    if p[0] == "value" and j[0] == "value":
        assert p[2] == j[2], "repr differs: interpreter %s, JIT %s" % (p[2], j[2])
        if p[1] == p[1]:      # NaN-free values compare with ==
            assert p[1] == j[1]
    else:
        assert p == j, "interpreter %r\nJIT         %r" % (p, j)
    return jitted


# For scripts run in a fresh process: starts the JIT (and .NET) there by
# compiling a function.
START_JIT = """\
import pyjion_clr
pyjion_clr.enable()
pyjion_clr.config(threshold=0)
def f():
    return 1
f()
assert pyjion_clr.info(f).compiled
"""


def run_script(tmp_path, source, *args):
    """Run `source` as a script in a fresh interpreter that can import
    pyjion_clr; the CompletedProcess (text output)."""
    script = tmp_path / "probe.py"
    script.write_text(source)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=root), timeout=120)
