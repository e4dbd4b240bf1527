"""Compiled code in a real process: C extension modules both ways, reference
counts, memory over many calls, and the eval breaker (thread switches,
signals, asynchronous exceptions) inside long compiled loops."""

import collections
import ctypes
import decimal
import gc
import itertools
import json
import math
import re
import signal
import sys
import threading
import tracemalloc

import pytest

import pyjion_clr
from harness import START_JIT, differential, fresh_copy, listing, run_compiled, run_script


def uses_c_extensions(text):
    data = json.loads(json.dumps({"a": [1, 2.5, None], "t": text}))
    words = re.findall(r"\w+", text)
    d = decimal.Decimal("1.1") + decimal.Decimal("2.2")
    pairs = list(itertools.combinations(words, 2))
    counts = collections.Counter(text)
    dq = collections.deque(words, maxlen=2)
    return data, words, str(d), pairs[:3], counts.most_common(2), list(dq), math.hypot(3, 4)


def key_fn(s):
    return (len(s), s)


def called_back_by_c(words):
    return sorted(words, key=key_fn), list(map(key_fn, words)), list(filter(len, words))


def test_calls_into_c_extensions():
    differential(uses_c_extensions, "the quick brown fox")


def test_called_back_from_c():
    pyjion_clr.config(threshold=0)
    pyjion_clr.enable()
    try:
        result = called_back_by_c(["ccc", "a", "bb", ""])
    finally:
        pyjion_clr.disable()
    assert pyjion_clr.info(key_fn).compiled
    assert result == (["", "a", "bb", "ccc"], [(3, "ccc"), (1, "a"), (2, "bb"), (0, "")],
                      ["ccc", "a", "bb"])


class Tracked:
    pass


def churn(obj, n):
    keep = None
    for i in range(n):
        local = obj
        pair = (local, i)
        lst = [obj, obj]
        d = {"k": obj}
        try:
            if i % 3 == 0:
                raise ValueError(obj)
        except ValueError as e:
            keep = e.args[0]
        del lst, d, pair
    return keep is obj


def test_reference_counts_balance():
    obj = Tracked()
    f = fresh_copy(churn)
    run_compiled(f, obj, 10)            # compile, warm up
    gc.collect()
    before = sys.getrefcount(obj)
    assert run_compiled(f, obj, 1000).value is True
    gc.collect()
    assert sys.getrefcount(obj) == before
    assert pyjion_clr.info(f).compiled


def small(a, b):
    t = (a, b)
    return t[0] + t[1]


def test_memory_flat_over_a_million_calls():
    f = fresh_copy(small)

    def drive(n):
        for i in range(n):
            f(i, 1)

    pyjion_clr.config(threshold=0)
    pyjion_clr.enable()
    try:
        drive(1000)
        tracemalloc.start()
        start, _ = tracemalloc.get_traced_memory()
        drive(1_000_000)
        end, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        pyjion_clr.disable()
    assert pyjion_clr.info(f).compiled_calls >= 1_000_000
    assert end - start < 64 * 1024, "memory grew by %d bytes" % (end - start)


def spin_until(flag, limit):
    n = 0
    while not flag:
        n += 1
        if n >= limit:
            return "limit"
    return "stopped"


def test_compiled_loop_lets_other_threads_run():
    flag = []
    results = []
    f = fresh_copy(spin_until)
    pyjion_clr.config(threshold=0)
    pyjion_clr.enable()
    try:
        # Compiled here first: if the worker reached f while this thread was
        # compiling something (Event.wait, say), f would run interpreted.
        assert f([1], 1) == "stopped"
        assert pyjion_clr.info(f).compiled
        worker = threading.Thread(target=lambda: results.append(f(flag, 2_000_000_000)))
        worker.start()
        # the main thread only gets here again if the compiled loop drops the GIL
        threading.Event().wait(0.05)
        flag.append(1)
        worker.join(60)
    finally:
        pyjion_clr.disable()
    assert results == ["stopped"]
    assert pyjion_clr.info(f).compiled_calls == 2


class Alarm(Exception):
    pass


def test_signal_handler_runs_inside_compiled_loop():
    f = fresh_copy(spin_until)

    def on_alarm(signum, frame):
        raise Alarm(frame.f_code.co_name)

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, 0.05)
    try:
        outcome = run_compiled(f, [], 2_000_000_000)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert isinstance(outcome.exc, Alarm)
    assert str(outcome.exc) == "spin_until"
    assert pyjion_clr.info(f).compiled


def test_async_exception_reaches_compiled_loop():
    f = fresh_copy(spin_until)
    caught = []
    started = threading.Event()

    def body():
        started.set()
        try:
            f([], 2_000_000_000)
        except Alarm as exc:
            caught.append(exc)

    pyjion_clr.config(threshold=0)
    pyjion_clr.enable()
    try:
        t = threading.Thread(target=body)
        t.start()
        started.wait()
        threading.Event().wait(0.05)
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(t.ident), ctypes.py_object(Alarm))
        t.join(60)
    finally:
        pyjion_clr.disable()
    assert len(caught) == 1


def raises_in_loop(n):
    total = 0
    for i in range(n):
        try:
            total += 10 // (i % 2)
        except ZeroDivisionError:
            total -= 1
    return total


def test_exceptions_in_loops_do_not_leak_stack_values():
    differential(raises_in_loop, 101)


def test_compiled_method_released_when_code_dies():
    from pyjion_clr import backends
    backend = backends.get("coreclr")

    def make():
        src = "def victim(a):\n    return a + 1\n"
        ns = {}
        exec(compile(src, "<victim>", "exec"), ns)
        return ns["victim"]

    victim = make()
    assert run_compiled(victim, 1).value == 2
    assert pyjion_clr.info(victim).compiled
    before = len(backend._released)
    del victim
    gc.collect()
    assert len(backend._released) >= before + 1      # handed back for freeing
    run_compiled(make(), 2)                           # the next compile frees it
    assert len(backend._released) == 0


def arithmetic_only(a, b):
    c = a * b
    c = c + a               # the old c released: deallocation on a cold path
    return c - b


def with_a_call_in_its_body(a):
    return sorted(a)


@pytest.mark.parametrize("args", [(2, 3), (1.5, 2.0), (2**40, 2**40), ("x", 3), ([1], 2)])
def test_native_calls_on_cold_paths_through_thunks(args):
    """A function whose native calls are all on cold paths (generic
    operations, deallocation, errors) makes them through thunks -- no
    P/Invoke frame to set up on every call -- and behaves as the
    interpreter does when those paths run (the last cases raise TypeError
    from a generic subtraction, the error leaving through a thunk)."""
    out = differential(arithmetic_only, *args)
    assert ("raised" if isinstance(args[0], (str, list)) else "value") == out.describe()[0]
    fn = fresh_copy(arithmetic_only)
    run_compiled(fn, *args)
    assert "thunk" in listing(fn)
    other = fresh_copy(with_a_call_in_its_body)
    run_compiled(other, "abc")
    assert pyjion_clr.info(other).compiled and "thunk" not in listing(other)


_STARTUP_PROBE = """
import gc, sys, threading, weakref

class Node:
    pass

def cycle():
    a, b = Node(), Node()
    a.other, b.other = b, a
    return a

old = [cycle() for _ in range(3)]
gc.collect()                    # these are in the oldest generation now
young = cycle()
if sys.argv[1] == "with-thread":
    release = threading.Event()
    waiter = threading.Thread(target=release.wait)
    waiter.start()
%s
if sys.argv[1] == "with-thread":
    release.set()
    waiter.join()
tracked = {id(o) for o in gc.get_objects()}
oldest = {id(o) for o in gc.get_objects(2)}
print(gc.get_freeze_count() > 0,
      id(sys.modules["clr_loader"].__dict__) in tracked,
      all(id(o) in oldest for o in old) and id(young) in tracked)
refs = [weakref.ref(o) for o in old + [young]]
del old, young
gc.collect()
print(all(r() is None for r in refs))
""" % START_JIT


@pytest.mark.parametrize("threads, expected", [
    ("alone", "True False True\nTrue\n"),
    ("with-thread", "False True True\nTrue\n")])
def test_runtime_start_up_objects_are_frozen(tmp_path, threads, expected):
    """The containers the .NET start-up leaves behind (clr_loader, pythonnet,
    cffi...) go to the collector's permanent generation, so full collections
    stop walking them; the program's objects stay where they were and are
    collected as before.  With another thread running, whose objects could
    not be told apart, nothing is frozen."""
    out = run_script(tmp_path, _STARTUP_PROBE, threads)
    assert out.stdout == expected, out.stderr
