"""Minimal differential tests for bugs found by running CPython's own test
suite under the JIT; each names the CPython test that found it."""

import os
import textwrap
import weakref

import pytest

import pyjion_clr

from harness import (START_JIT, differential, fresh_copy, il_instructions, run_compiled,
                     run_interpreted, run_script, translated)


class _Obj:
    pass


class _Swallow:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return True


def _raise_with(obj):
    local_ref = obj  # noqa: F841 - kept alive by the traceback's frame
    raise ValueError(obj)


def _swallowed_in_with():
    obj = _Obj()
    wr = weakref.ref(obj)
    with _Swallow():
        _raise_with(obj)
    obj = None
    return wr() is None


# test_exceptions.testExceptionCleanupState: compiling a function while an
# exception was being handled let the compiler's own internal exceptions chain
# it as __context__ and keep it (and the callee's frame) alive.
def test_exception_swallowed_by_with_releases_callee_frame():
    assert run_interpreted(_swallowed_in_with).value is True
    assert run_compiled(fresh_copy(_swallowed_in_with)).value is True


# test_dynamic.test_load_global_specialization_failure_keeps_oparg: globals
# that are a dict subclass are read with PyObject_GetItem (__missing__ counts).
class _MissingGlobals(dict):
    def __missing__(self, key):
        return int(key.removeprefix("_number_"))


def test_globals_dict_subclass_with_missing():
    code = "lambda: " + "+".join("_number_%d" % i for i in range(20))
    fn = eval(code, _MissingGlobals())
    out = differential(fn)
    assert out.value == sum(range(20))


def _fork_and_wait():
    import os
    pid = os.fork()
    if pid == 0:
        os._exit(7 if sum(i for i in range(100)) == 4950 else 1)
    _, status = os.waitpid(pid, 0)
    return os.WEXITSTATUS(status)


# test_builtin's pty tests: a child forked from compiled code must be able to
# return through the compiled frames on its stack.
def test_fork_from_compiled_code():
    out = differential(_fork_and_wait)
    assert out.value == 7


def _kw_target(**kw):
    return kw


def _star_star_list():
    return _kw_target(a=1, **[])


def _duplicate_non_str_keys():
    return _kw_target(**{1: 3}, **{1: 5})


# test_extcall / test_unpack_ex: messages of bad ** arguments.
@pytest.mark.parametrize("fn", [_star_star_list, _duplicate_non_str_keys])
def test_star_star_errors(fn):
    out = differential(fn)
    assert isinstance(out.exc, TypeError)


def _too_many_positionals_for_kwargs_only():
    def only_keywords(**kw):
        return kw

    def keyword_only(*, a, b=0):
        return a, b

    out = []
    for call in (lambda: only_keywords(1, 2), lambda: only_keywords(1, 2, a=1),
                 lambda: keyword_only(1, 2), lambda: only_keywords(a=1)):
        try:
            out.append(call())
        except TypeError as exc:
            out.append(str(exc))
    return out


# test_inspect (TestGetcallargsFunctions.test_errors): positionals passed to
# a function with **kwargs but no *args crashed the direct call, which
# filled an *args tuple it had not made.
def test_positionals_to_a_function_with_kwargs_but_no_args():
    assert differential(_too_many_positionals_for_kwargs_only).describe()[0] == "value"


def _fresh_function(a):
    return [a, a * 2]


# test_gc.test_frame / test_collect_garbage: compiling must not leave cyclic
# garbage behind (ctypes buffers used to create a new array type per size).
def test_compiling_leaves_no_cyclic_garbage():
    import gc
    run_compiled(fresh_copy(_fresh_function), 1)      # runtime started, warm
    gc.collect()
    for size in range(3):
        f = fresh_copy(_fresh_function)
        assert run_compiled(f, size).value == [size, size * 2]
        assert pyjion_clr.info(f).compiled
        assert gc.collect() == 0


# test_descr.test_slots counts gc.get_objects() around a loop whose callee
# gets compiled: a compile must leave nothing the collector tracks (pythonnet
# kept a wrapper per DynamicMethod; the records were tracked tuples).
def test_compiling_adds_no_tracked_objects():
    import gc
    run_compiled(fresh_copy(_fresh_function), 1)      # runtime started, warm
    functions = [fresh_copy(_fresh_function) for _ in range(10)]
    results = [None] * len(functions)
    old_threshold = pyjion_clr.config()["threshold"]
    pyjion_clr.config(threshold=0)
    gc.collect()
    before = len(gc.get_objects())
    pyjion_clr.enable()
    try:
        for i, f in enumerate(functions):
            results[i] = f(1)
    finally:
        pyjion_clr.disable()
        pyjion_clr.config(threshold=old_threshold)
    after = len(gc.get_objects())
    assert all(pyjion_clr.info(f).compiled for f in functions)
    # the ten result lists are the only new tracked objects
    assert after - before == len(functions)


def _calls_len(x):
    return len(x)


# test_dynamic.test_modify_builtins: a program that replaces builtins.len must
# not break the compiler's own len() (it built truncated IL, which RyuJIT
# rejected at the first call and aborted the process).
def test_replaced_builtins_do_not_reach_the_compiler():
    import builtins
    original = builtins.len
    builtins.len = lambda x: 7
    try:
        out = differential(_calls_len, [1, 2, 3])
    finally:
        builtins.len = original
    assert out.value == 7


class _BadTranslator:
    """Stands in for the translator and returns IL that RyuJIT rejects
    (two values on the stack at ret)."""
    Unsupported = Exception

    @staticmethod
    def translate(code, target, site_caches):
        from pyjion_clr import _cil
        il = _cil.ILBuilder()
        il.new_local("i")
        il.op("ldarg.1")
        il.op("ldarg.1")
        il.op("ret")
        return il.finish()


def _victim_of_bad_il(a):
    return a + 1


# An InvalidProgramException must surface while compiling (and become a
# fallback), never at the first call, where it would abort the process.
def test_invalid_il_is_a_fallback_not_a_crash(monkeypatch):
    from pyjion_clr.backends import coreclr
    run_compiled(fresh_copy(_victim_of_bad_il), 1)       # runtime started
    monkeypatch.setattr(coreclr, "_translate", _BadTranslator)
    f = fresh_copy(_victim_of_bad_il)
    assert run_compiled(f, 41).value == 42
    info = pyjion_clr.info(f)
    assert not info.compiled
    assert "InvalidProgramException" in info.reason


# test_threading: _thread.interrupt_main() raises KeyboardInterrupt as soon as
# the call returns (calls poll the eval breaker, as in the interpreter).
def _interrupt_at_call():
    import _thread
    try:
        _thread.interrupt_main()
        where = "after the call"
    except KeyboardInterrupt:
        where = "at the call"
    return where


@pytest.fixture
def sigint_raises():
    """interrupt_main() does nothing while SIGINT is ignored, as it is in a
    shell's background job: these tests need Python's own handler."""
    import signal
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_signal_raised_by_callee_surfaces_at_the_call(sigint_raises):
    assert differential(_interrupt_at_call).value == "at the call"


def _victim_of_interrupted_compile():
    return "ran"


# test_generators: a signal whose handler ran while the compiler was working
# must still reach the program (it used to be reported as unraisable and lost).
def test_signal_during_compile_is_not_lost(monkeypatch, sigint_raises):
    import _thread
    from pyjion_clr import backends
    backend = backends.get("coreclr")
    real_compile = backend.compile

    def interrupted_compile(code):
        _thread.interrupt_main()
        for _ in range(3):      # the handler runs at this loop's back edge
            pass
        return real_compile(code)

    monkeypatch.setattr(backend, "compile", interrupted_compile)
    f = fresh_copy(_victim_of_interrupted_compile)
    with pytest.raises(KeyboardInterrupt):
        run_compiled(f)
    monkeypatch.undo()
    assert run_compiled(fresh_copy(_victim_of_interrupted_compile)).value == "ran"


_SIGNAL_PROBE = r"""
import ctypes, os, signal, sys
libc = ctypes.CDLL(None)

class SigAction(ctypes.Structure):
    _fields_ = [("handler", ctypes.c_void_p), ("mask", ctypes.c_ulong * 16),
                ("flags", ctypes.c_int), ("restorer", ctypes.c_void_p)]

def handlers():
    out = []
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM):
        sa = SigAction()
        libc.sigaction(int(sig), None, ctypes.byref(sa))
        out.append(sa.handler)
    return out

before = handlers()
if sys.argv[1] == "jit":
%s
print(before == handlers(), flush=True)
os.kill(os.getpid(), signal.SIGTERM)
""" % textwrap.indent(START_JIT, "    ")


# test_generators (SignalAndYieldFromTest): CoreCLR installs its own SIGINT
# handler, which passed the signal on to Python's from another thread, so
# under load KeyboardInterrupt arrived after the code it should interrupt.
# The runtime start must leave SIGINT/SIGQUIT/SIGTERM as Python had them
# (SIGTERM then ends the process exactly as under plain python).
def test_runtime_start_keeps_python_signal_handling(tmp_path):
    plain = run_script(tmp_path, _SIGNAL_PROBE, "plain")
    jit = run_script(tmp_path, _SIGNAL_PROBE, "jit")
    assert jit.stdout == plain.stdout == "True\n", jit.stderr
    assert jit.returncode == plain.returncode == -15


# hexiom's constraint_pass (50,929 IL bytes, 20,415 IL instructions) was
# compiled by RyuJIT without optimization ("switched to MinOpts": over its
# 20,000-instruction limit, under the 60,000-byte one) and ran slower than
# the interpreter.  Every MinOpts limit now sends such code to the
# interpreter; the limit is lowered here so a small function crosses it.
def test_code_past_any_minopts_limit_is_left_to_the_interpreter(monkeypatch):
    from pyjion_clr import _translate

    def body(n):
        total = 0
        for i in range(n):
            total += i * 2 if i % 3 else -i
        return total

    monkeypatch.setitem(_translate.MINOPTS_LIMITS, "instructions", 100)
    monkeypatch.setattr(_translate, "LAST_LEVEL_MIN_CALLS", 0)     # every level tried now
    copy = fresh_copy(body)
    assert run_compiled(copy, 50).describe() == run_interpreted(body, 50).describe()
    info = pyjion_clr.info(copy)
    assert not info.compiled
    assert info.reason == "unsupported: too large: over 100 instructions, which RyuJIT does not optimize"


# Code over a limit with every fast path can fit with fewer: it is
# translated again in compact form (sites without feedback lose the
# float-with-int path, then keep only the small-int path) before being left
# to the interpreter.
def test_code_over_a_limit_is_compiled_again_with_fewer_fast_paths(monkeypatch):
    from pyjion_clr import _translate

    def body(n, x):
        total = 0
        for i in range(n):
            total = total + i * x - (i - x) * 2 + x * x + i / 4
        return total

    full, fewer, fewest = (il_instructions(body, level) for level in (0, 1, 2))
    assert fewest < fewer < full
    monkeypatch.setitem(_translate.MINOPTS_LIMITS, "instructions", (fewer + fewest) // 2)
    for x in (3, 0.5):                  # the float takes the helpers now
        copy = fresh_copy(body)
        assert run_compiled(copy, 30, x).describe() == run_interpreted(body, 30, x).describe()
        assert pyjion_clr.info(copy).compiled


def _halved(x):
    return x / 2


def calls_in_a_loop(n):
    total = 0.0
    for i in range(n):
        total = total + _halved(i) - _halved(total) * 0.5
    return total


def _record_translations(monkeypatch, name, every_attempt=True):
    """[(compact, leaf_halves, IL instructions)] of each translation of the
    code called `name` from here on, as the compile makes them; with
    every_attempt, each attempt is made while over a limit (none skipped
    as too far over to fit)."""
    from pyjion_clr import _translate
    made = []
    if every_attempt:
        attempts = _translate.attempts
        monkeypatch.setattr(_translate, "attempts",
                            lambda instrs: ((options, 0.0) for options, _ in attempts(instrs)))

    class Recording(_translate.Translator):
        def translate(self):
            method = super().translate()
            if self.code.co_name == name:
                made.append((self.compact, self.leaf_halves, method.shape["instructions"]))
            return method
    monkeypatch.setattr(_translate, "Translator", Recording)
    return made


# Code that needs compaction level 1 keeps the calls' leaf halves where they
# fit (chaos's Spline.__call__), and leaves them out where they do not.
@pytest.mark.parametrize("leaf_halves_fit", [True, False])
def test_compact_code_keeps_leaf_halves_where_they_fit(monkeypatch, leaf_halves_fit):
    from harness import WARM_CALLS, listing
    from pyjion_clr import _translate

    def warmed():
        fn = fresh_copy(calls_in_a_loop)
        pyjion_clr.disable()
        for _ in range(WARM_CALLS):
            fn(3)
        return fn

    made = _record_translations(monkeypatch, "calls_in_a_loop")
    monkeypatch.setitem(_translate.MINOPTS_LIMITS, "instructions", 0)
    run_compiled(warmed(), 40)
    sizes = {(compact, halves): size for compact, halves, size in made}
    assert sizes[0, True] > sizes[1, True] > sizes[1, False] > sizes[2, False]

    monkeypatch.setitem(_translate.MINOPTS_LIMITS, "instructions",
                        sizes[1, leaf_halves_fit])
    copy = warmed()
    assert run_compiled(copy, 40).describe() == run_interpreted(calls_in_a_loop, 40).describe()
    assert pyjion_clr.info(copy).compiled
    assert ("call_recorded_leaf" in listing(copy)) == leaf_halves_fit


def straight_arithmetic(x, y):
    return (x * y - (x - y) * 2 + x * x) / 4 - y * 3


# ... and where it has no site for them, level 1 is translated once.
def test_level_one_without_leaf_half_sites_is_translated_once(monkeypatch):
    from pyjion_clr import _translate
    made = _record_translations(monkeypatch, "straight_arithmetic")
    monkeypatch.setitem(_translate.MINOPTS_LIMITS, "instructions", 0)
    run_compiled(fresh_copy(straight_arithmetic), 3, 0.5)
    assert [(compact, halves) for compact, halves, _ in made] == [
        (0, True), (0, True), (1, True), (2, False)]
    level2 = made[-1][2]
    monkeypatch.setitem(_translate.MINOPTS_LIMITS, "instructions", level2)
    copy = fresh_copy(straight_arithmetic)
    for args in ((3, 0.5), (2, 7), (1.5, 2.5), ("a", 0)):
        assert (run_compiled(copy, *args).describe()
                == run_interpreted(straight_arithmetic, *args).describe())
    assert pyjion_clr.info(copy).compiled


# The last compaction level sends every attribute site to its helper (the
# same caches, checked in C): hexiom's constraint_pass, over every limit at
# the levels before, fits there.  The objects below take
# every way through those sites: slots, inline values, an instance __dict__
# shadowing a method, class attributes, a module, a property, a missing
# attribute and a deleted one.
class _Slotted:
    __slots__ = ("x", "y")

    def __init__(self, x):
        self.x = x

    def total(self):
        return self.x


class _Plain:
    kind = "plain"

    def __init__(self, x):
        self.x = x

    def total(self):
        return self.x * 2

    @property
    def y(self):
        return -self.x


def _attribute_heavy(objects):
    import math
    out = []
    for obj in objects:
        try:
            obj.y = obj.x + 1
            out.append((obj.x, obj.y, obj.total(), math.floor(obj.x / 2)))
            del obj.y
            out.append(obj.y)
        except AttributeError as exc:
            out.append(str(exc))
        out.append(getattr(obj, "kind", None))
    return out


def _attribute_objects():
    shadowed = _Plain(5)
    shadowed.total = lambda: "own"
    return [_Slotted(1), _Plain(2), shadowed, _Slotted(3), _Plain(4)]


def test_attribute_sites_take_their_helpers_at_the_last_level(monkeypatch):
    from pyjion_clr import _translate

    def attributes_only(obj):
        obj.y = obj.x
        return obj.z

    last = _translate.COMPACT_LEVELS - 1
    # only the last level changes attribute sites
    assert (il_instructions(attributes_only, last)
            < il_instructions(attributes_only, last - 1) == il_instructions(attributes_only, 0))
    before_last, at_last = il_instructions(_attribute_heavy, last - 1), il_instructions(_attribute_heavy, last)
    monkeypatch.setitem(_translate.MINOPTS_LIMITS, "instructions", (before_last + at_last) // 2)
    # ... for code called often enough: until then it is offered again
    monkeypatch.setattr(_translate, "LAST_LEVEL_MIN_CALLS", 3)
    expected = run_interpreted(_attribute_heavy, _attribute_objects()).describe()
    copy = fresh_copy(_attribute_heavy)
    waiting_before = pyjion_clr.stats()["deferred"]
    for call in range(4):
        assert run_compiled(copy, _attribute_objects()).describe() == expected
        info = pyjion_clr.info(copy)
        if call < 3:
            assert not info.compiled
            assert info.reason == "unsupported: too large unless compact: compiled if called 3 times"
            assert pyjion_clr.stats()["deferred"] == waiting_before + 1
    assert info.compiled and info.compiled_calls == 1
    assert pyjion_clr.stats()["deferred"] == waiting_before     # waiting no more


def module_code_called_as_functions():
    """test_builtin's test_compile_top_level_await: code compiled for a
    module (with and without top-level await) and made into a function reads
    and writes its names in its globals -- its frame's f_locals are those,
    which calls from compiled code (direct calls, generator creation) must
    pass as _PyFunction_Vectorcall does."""
    import ast
    import asyncio
    import types
    body = types.FunctionType(compile("a = b + 1", "<body>", "exec"), {"b": 1})
    ns = body.__globals__
    body()
    coro_code = compile("a = await asyncio.sleep(0, result=b)", "<tla>", "exec",
                        flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    g = {"asyncio": asyncio, "b": 7}
    coro_fn = types.FunctionType(coro_code, g)
    asyncio.run(coro_fn())
    return ns["a"], g["a"]


def test_module_code_called_as_functions():
    differential(module_code_called_as_functions)


def c_functions_raising_report_their_call(xs, case):
    """test_traceback's test_caret_multiline_expression_syntax_error: an
    exception raised inside a C function called from IL (here guessed
    from the builtin's name, the loop compiled without feedback) must
    point at that call -- its line, not the last one a helper call
    stored, and its columns in the formatted traceback."""
    import traceback
    t = 0
    for x in xs:
        t += x
    y = t * 2
    try:
        if case == 0:
            return divmod(
                y, 0)
        if case == 1:
            return abs(
                "y")
        return compile("foo(a, z", "?",
                       "exec")
    except Exception:
        return traceback.format_exc().splitlines()[3:6]


@pytest.mark.parametrize("case", [0, 1, 2])
def test_c_functions_raising_report_their_call(case):
    differential(c_functions_raising_report_their_call, [1, 2], case)


def test_translating_leaves_no_reference_cycles():
    """A translator is freed by reference counting when its compile ends.
    One kept alive by a cycle (a nested function of an emitter that another
    nested function called) waits for a full collection with its analysis
    and IL lists, and a process that compiled its imports that way ran
    float's iterations 40-100% slower, in the collector and out of it."""
    import gc
    import test_constructs
    import test_generators
    import test_unpacking
    from harness import translated

    functions = [v for module in (test_constructs, test_generators, test_unpacking)
                 for v in vars(module).values()
                 if callable(v) and getattr(v, "__code__", None) is not None
                 and v.__module__ == module.__name__]
    assert len(functions) > 50
    gc.collect()
    gc.disable()                # else a young collection may free a cycle first
    try:
        for fn in functions:
            try:
                translated(fn)
            except Exception:   # noqa: BLE001 - unsupported code is not the point here
                pass
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_il_builder_drops_only_unreachable_code():
    from pyjion_clr import _cil
    il = _cil.ILBuilder()
    join, after = il.new_label(), il.new_label()
    il.op("ldarg.1")
    il.branch("br", join)
    il.op("ldarg.0")                # after a br, no label: dropped
    il.branch("brtrue", after)      # ... with its fixup
    il.mark(join)                   # the br to here is dropped too
    for name in ("pop", "ldarg.1", "pop", "ldarg.1", "pop"):
        il.op(name)                 # reachable, though they pass where the
    il.op("ret")                    # dropped br ended (the exit it left)
    il.op("ldarg.1")                # after ret: dropped
    il.mark(after)                  # a label (unreferenced) makes it live
    il.op("ldarg.0")
    il.op("ret")
    method = il.finish()
    listing = _cil.disassemble(method)
    names = [line.split()[1] for line in listing.splitlines()]
    assert names == ["ldarg.1", "pop", "ldarg.1", "pop", "ldarg.1", "pop", "ret", "ldarg.0", "ret"]
    assert method.shape["blocks"] == 2


def test_il_builder_takes_back_code_that_repeats():
    """Cold paths that repeat one emitted before (Translator.emit_cold_paths)
    are taken back and their labels placed at the first: the same bytes
    with branches to the same places are the same code."""
    from pyjion_clr import _cil
    il = _cil.ILBuilder()
    resume, other = il.new_label(), il.new_label()
    first, second, third = il.new_label(), il.new_label(), il.new_label()
    il.op("ldarg.0")
    il.branch("brtrue", first)
    il.op("ldarg.1")
    il.branch("brtrue", second)
    il.op("ldarg.0")
    il.branch("brtrue", third)
    il.mark(resume)
    il.op("ldarg.1")
    il.op("ret")
    il.mark(other)
    il.op("ldarg.0")
    il.op("ret")

    def stub(label, target):
        il.mark(label)
        checkpoint = il.checkpoint()
        il.op("ldarg.1")
        il.op("pop")
        il.branch("br", target)
        return checkpoint, il.emitted_since(checkpoint)

    _, code = stub(first, resume)
    size = len(il.code)
    checkpoint, same = stub(second, resume)
    assert same == code
    il.rollback(checkpoint)
    il.place(second, il.position(first))
    assert len(il.code) == size
    _, elsewhere = stub(third, other)       # the same bytes, another place
    assert elsewhere != code
    method = il.finish()
    names = [line.split()[1:] for line in _cil.disassemble(method).splitlines()]
    assert [n[0] for n in names].count("pop") == 2
    branches = [n[1] for n in names if n[0] == "brtrue"]
    assert branches[0] == branches[1] != branches[2]
    assert method.shape["blocks"] == 7     # a stub fewer


def test_il_builder_makes_thunked_calls_direct_in_place():
    """Calls on cold paths are emitted through thunks and made direct
    calli's once the body turns out to need a P/Invoke frame anyway
    (Translator.calli_native): in place, so every position, branch and
    the shape stay, and the resolved IL calls the native function."""
    from pyjion_clr import _cil
    signature = _cil.unmanaged_signature("i4", ["i", "i"])
    il = _cil.ILBuilder()
    skip = il.new_label()
    il.op("ldarg.0")
    il.branch("brfalse", skip)
    il.op("ldarg.0")
    il.op("ldarg.1")
    il.ldc_ptr(0x1234)
    il.calli_through_thunk(signature)
    il.op("pop")
    il.mark(skip)
    il.op("ldarg.1")
    il.op("ret")
    thunked = il.finish()
    assert "thunk" in _cil.disassemble(thunked)
    il.call_thunked_directly()
    direct = il.finish()
    assert direct.shape == thunked.shape and len(direct.il) == len(thunked.il)
    assert direct.thunk_fixups == []
    listing = _cil.disassemble(direct)
    assert "thunk" not in listing
    names = [line.split()[1] for line in listing.splitlines()]
    assert names[4:9] == ["ldc.i8", "ldc.i8", "pop", "calli", "pop"]
    (calli_token,) = [index for pos, index in direct.token_fixups]
    assert direct.signatures[calli_token] == signature
    # the branch over the call lands where it did
    assert direct.resolve([7] * len(direct.signatures), {})[:8] == thunked.resolve(
        [7] * len(thunked.signatures), {signature: 0})[:8]


def too_large_when_told(x):
    total = 0
    for i in range(x):
        total += i * x - (i // 3) + x % 7
    return total


# An attempt that cannot fit is not made: each attempt is at least a known
# share of the first's shape (translate.attempts), so code far over a limit
# goes straight to the last level, or is refused after one translation.
@pytest.mark.parametrize("over, translations, reason", [
    (1.2, 4, None),     # 1/1.2 of the first: the levels before the last may fit
    (3.0, 1, "unsupported: too large unless compact: compiled if called 50 times"),
    (8.0, 1, "unsupported: too large: over %d instructions, which RyuJIT does not optimize"),
])
def test_attempts_that_cannot_fit_are_not_made(monkeypatch, over, translations, reason):
    from pyjion_clr import _translate
    first = il_instructions(too_large_when_told)
    limit = int(first / over)
    monkeypatch.setitem(_translate.MINOPTS_LIMITS, "instructions", limit)
    recorded = _record_translations(monkeypatch, "too_large_when_told", every_attempt=False)
    copy = fresh_copy(too_large_when_told)
    assert run_compiled(copy, 5).describe() == run_interpreted(too_large_when_told, 5).describe()
    made = [compact for compact, _, _ in recorded]
    assert made[0] == 0
    if reason is None:
        assert len(made) >= translations and made[-1] < _translate.COMPACT_LEVELS - 1
    else:
        assert len(made) == translations
        assert pyjion_clr.info(copy).reason == (reason % limit if "%d" in reason else reason)
