"""Python-to-Python calls from compiled code that skip vectorcall
(native/direct_call.c), against the interpreter: frames that outlive their
call, defaults, argument errors, recursion, and calls the shortcut leaves to
vectorcall."""

import sys

import pytest

from harness import differential


def _frame_summary(frame):
    return (frame.f_code.co_name, frame.f_lineno - frame.f_code.co_firstlineno,
            sorted(frame.f_locals), frame.f_back.f_code.co_name if frame.f_back else None)


def escaped_frames():
    def callee(a, b=2):
        c = a + b
        return sys._getframe()

    frames = [callee(i) for i in range(3)] + [callee(1, 5)]
    out = [_frame_summary(f) for f in frames]
    out.append([f.f_locals["c"] for f in frames])
    return out


def traceback_frames():
    def fail(x):
        y = x * 2
        raise ValueError(y)

    kept = []
    for i in range(3):
        try:
            fail(i)
        except ValueError as e:
            kept.append(e.__traceback__)
    out = []
    for tb in kept:
        chain = []
        while tb is not None:
            chain.append((tb.tb_frame.f_code.co_name, tb.tb_lineno - tb.tb_frame.f_code.co_firstlineno))
            tb = tb.tb_next
        out.append(chain)
    return out, [tb.tb_next.tb_frame.f_locals["y"] for tb in kept]


def defaults_and_argument_errors(case):
    def f(a, b=10, c=(1, 2)):
        return a, b, c

    def g(a, /, b):
        return a - b

    if case == 0:
        return [f(1), f(1, 2), f(1, 2, 3), g(5, 3)]
    if case == 1:
        return f()
    if case == 2:
        return f(1, 2, 3, 4)
    return g(1)


def not_shortcut_calls():
    def kw(a, *, key=0):
        return a + key

    def star(*args, **kwargs):
        return args, sorted(kwargs)

    def gen(n):
        yield from range(n)

    def closure(k):
        def inner(x):
            return x * k
        return inner

    return [kw(1), kw(1, key=2), star(1, 2, z=3), list(gen(3)), closure(3)(4)]


def recursion(n):
    def down(k):
        return 0 if k == 0 else 1 + down(k - 1)
    return down(n)


def frame_object_made_during_call_then_dropped():
    def callee(n):
        f = sys._getframe()
        return f.f_code.co_name, n
    return [callee(i) for i in range(50)]


CASES = [
    (escaped_frames, ()),
    (traceback_frames, ()),
    (defaults_and_argument_errors, (0,)),
    (defaults_and_argument_errors, (1,)),
    (defaults_and_argument_errors, (2,)),
    (defaults_and_argument_errors, (3,)),
    (not_shortcut_calls, ()),
    (recursion, (200,)),
    (recursion, (100000,)),
    (frame_object_made_during_call_then_dropped, ()),
]


@pytest.mark.parametrize("fn,args", CASES, ids=["%s%r" % (f.__name__, a) for f, a in CASES])
def test_direct_call(fn, args):
    differential(fn, *args)
