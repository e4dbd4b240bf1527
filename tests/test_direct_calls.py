"""Python-to-Python calls from compiled code that skip vectorcall
(native/direct_call.c), against the interpreter: frames that outlive their
call, defaults, argument errors, recursion, and calls the shortcut leaves to
vectorcall."""

import os
import sys

import pytest

import pyjion_clr
from harness import (differential, fresh_copy, listing, run_compiled, run_interpreted,
                     warmed_copy)


def _frame_summary(frame):
    return (frame.f_code.co_name, frame.f_lineno - frame.f_code.co_firstlineno,
            sorted(frame.f_locals), frame.f_back.f_code.co_name if frame.f_back else None)


def escaped_frames():
    def callee(a, b=2):
        c = a + b
        frame = sys._getframe()
        return frame        # the line a frame reports once returned

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


def star_calls():
    """f(*args) and f(*args, **kwargs) of Python functions: through their
    direct entries where the arguments fit (the tuple's items, an exact
    dict's by name), else through PyObject_Call, which reports the errors."""
    def three(a, b, c=3, *, d=4):
        return a, b, c, d

    def gen(*items):
        yield from items

    class Obj:
        def m(self, x, y=0):
            return x - y

    out = []
    args, kw = (1, 2), {"d": 5}
    for i in range(30):
        out.append(three(*args, **kw) + three(*(i, i)))
    out.append(three(*[1, 2, 7]))                 # a list: made a tuple first
    out.append(three(*args, **{"c": 9, "d": 8}))
    out.append(Obj().m(*(5,), **{"y": 2}))
    out.append(Obj.m(*(Obj(), 5)))
    out.append(list(gen(*range(3))))
    out.append((lambda *a: sum(a))(*range(20)))   # more than go through the direct entry
    out.append((lambda *a, **k: (a, k))(*range(16), **{"z": 1}))
    for bad in ((1,), (1, 2, 3, 4), ()):
        try:
            three(*bad)
        except TypeError as exc:
            out.append(str(exc))
    for bad in ({"a": 1}, {"e": 1}, {1: 2}):
        try:
            three(1, 2, **bad)
        except TypeError as exc:
            out.append(str(exc))
    return out


def variadic_calls(n):
    """Calls of functions with *args or **kwargs: through their direct
    entries, with a new tuple and dict each call, where the arguments bind
    without an error; the rest (an error to raise, a keyword equal to a
    parameter's name but not it) left to vectorcall."""
    def both(a, b=2, *args, c, d=4, **kwargs):
        kwargs["seen"] = len(args)             # a new dict each call
        return a, b, args, c, d, sorted(kwargs.items())

    def rest(*args):
        return args

    def options(a, /, **kwargs):
        return a, kwargs

    def captured(*args, **kwargs):
        def inner():
            return args, kwargs                 # both are cells
        return inner()

    def escaping(x, *args, **kwargs):
        frame = sys._getframe()
        return frame                            # its f_lineno once returned

    def failing(*args, **kwargs):
        return 1 / len(args)

    out = []
    for i in range(n):
        out.append(both(i, c=i))
        out.append(both(i, 5, 6, 7, c=0, e=i, d=1))
        out.append(rest() + rest(i) + rest(i, i + 1, *range(3)))
        out.append(options(i, a=1, b=2))        # a positional-only name goes to **kwargs
        out.append(captured(i, k=i))
        out.append(both(*(i, 1, 2), **{"c": 3, "z": 4}))
        both.__kwdefaults__ = {"d": -i, "c": i}  # another order; c given a default
        out.append(both(i, e=i))
        both.__kwdefaults__ = {"d": 4}
    frames = [escaping(i, i, k=i) for i in range(3)]
    out.append([(_frame_summary(f), f.f_locals["args"], f.f_locals["kwargs"]) for f in frames])
    name = "".join(["c", "d"])[:1]              # equal to "c", not it
    out.append(both(1, **{name: 3}))
    for args, kwargs in (((), {"c": 1}), ((1, 2), {"a": 1, "c": 1}), ((1,), {}),
                         ((1,), {"c": 1, "b": 2, "x": 0})):
        try:
            out.append(both(*args, **kwargs))
        except TypeError as exc:
            out.append(str(exc))
    try:
        failing()
    except ZeroDivisionError as exc:
        out.append((str(exc), exc.__traceback__.tb_next.tb_frame.f_code.co_name))
    return out


def variadic_calls_release_their_arguments():
    """The references an argument gains in *args, **kwargs or a parameter
    all go when the call returns or raises (the counts differ from the
    interpreter's by nothing)."""
    def both(a, b=2, *args, c, d=4, **kwargs):
        return a

    def fail(a, *args, **kwargs):
        raise ValueError(a)

    x, y = object(), object()
    before = sys.getrefcount(x), sys.getrefcount(y)
    for i in range(200):
        both(x, y, x, y, c=x, e=y, d=x)
        both(*(x, y), **{"c": y, "z": x})
        try:
            fail(x, y, k=x)
        except ValueError:
            pass
        try:
            both(x, a=y)                        # bound twice: vectorcall raises
        except TypeError:
            pass
    return sys.getrefcount(x) - before[0], sys.getrefcount(y) - before[1]


def star_call_raises(n):
    def inverse(a, b=1):
        return b / a

    return [inverse(*(k,)) for k in range(n, -1, -1)]


def recursion(n):
    def down(k):
        return 0 if k == 0 else 1 + down(k - 1)
    return down(n)


def frame_object_made_during_call_then_dropped():
    def callee(n):
        f = sys._getframe()
        return f.f_code.co_name, n
    return [callee(i) for i in range(50)]


def c_functions_called_without_feedback(n):
    """Builtins and method descriptors called from a loop compiled at its
    first call, with no feedback (ops.c calls their C functions itself):
    each calling convention, wrong argument counts, a descriptor given an
    instance of a subclass or of another type, errors raised inside."""

    class MyList(list):
        pass

    out = []
    items = [3, -1, 2]
    d = {"a": 1}
    for i in range(n):
        out.append(abs(i - 2))                        # METH_O
        out.append(isinstance(i, int))                # METH_FASTCALL
        out.append(getattr(d, "get")("a", i))         # FASTCALL descriptor, bound
        out.append(d.get("b", i))                     # METH_FASTCALL descriptor
        copy = items.copy()                           # METH_NOARGS descriptor
        copy.append(i)                                # METH_O descriptor
        out.append(copy)
        sub = MyList(items)
        sub.append(i)                                 # a subclass instance
        out.append(sub)
        out.append(list.append(copy, -i) or copy[-1])
        for bad in (lambda: abs(), lambda: abs(1, 2), lambda: items.copy(1),
                    lambda: list.append(5, 1), lambda: list.append(), lambda: abs("x"),
                    lambda: d.get()):
            try:
                bad()
            except TypeError as e:
                out.append(str(e))
    return out


# A module of its own whose globals shadow builtins that calls compiled
# without feedback are guessed to be (FastPaths.guessed_call).
_SHADOWING_MODULE = """
def len(x):
    return ("my len", x)

abs = str
isinstance = lambda obj, cls: "my isinstance"
getattr = hasattr

def calls(n):
    class Log:
        def __init__(self):
            self.items = []

        def append(self, x):
            self.items.append(x * 10)

        def copy(self, *args):
            return ("copy", args)

    class D(dict):
        def get(self, k, default=None):
            return ("D.get", k, default)

    out = []
    log = Log()
    d = D(a=1)
    for i in range(n):
        out.append(len([i]))
        out.append(abs(i))
        out.append(isinstance(i, int))
        out.append(getattr(d, "get"))
        log.append(i)
        out.append(log.copy())
        out.append(d.get("a", i))
        out.append(dict.get(d, "a", i))
        out.append(type(i))
    return out, log.items
"""


def guessed_calls_meet_other_callables(n):
    """Calls guessed from their callable's name (no feedback, the loop
    compiled at its first call) that meet something else of that name."""
    namespace = {"__name__": "shadowing"}
    exec(_SHADOWING_MODULE, namespace)
    return namespace["calls"](n)


def test_guessed_calls_are_compiled():
    """The shadowing module's loop runs compiled (the comparison above only
    checks its caller), so the guessed paths are what meets the shadows."""
    namespace = {"__name__": "shadowing"}
    exec(_SHADOWING_MODULE, namespace)
    outcome = run_compiled(namespace["calls"], 2)
    assert outcome.describe()[0] == "value"
    assert pyjion_clr.info(namespace["calls"]).compiled


class Token:
    def __repr__(self):
        return "token"


TOKEN = Token()


def keyword_calls(n):
    """Calls with keyword arguments and keyword-only parameters, bound by the
    direct path when plain, left to vectorcall (which raises) otherwise."""
    def pos(a, b, c=3, d=4):
        return (a, b, c, d)

    def kwonly(a, *, key=None, flag=True, reverse=False):
        return (a, key, flag, reverse)

    def required(a, *, key):
        return (a, key)

    def posonly(a, b=2, /, c=3):
        return (a, b, c)

    def captured(a, b=1):
        def inner():
            return a + b            # a and b are cells
        return inner()

    def gen(a, *, step=1):
        yield a
        yield a + step

    def extra(a, **kw):
        return (a, sorted(kw.items()))

    obj = TOKEN
    before = sys.getrefcount(obj)
    out = []
    for i in range(n):
        out.append(pos(1, 2, d=i))
        out.append(pos(b=i, a=obj))
        out.append(pos(1, c=i, b=2))
        out.append(kwonly(i))
        out.append(kwonly(i, reverse=True))
        out.append(kwonly(i, flag=False, key=obj))
        out.append(required(i, key="k"))
        out.append(posonly(i, c=5))
        out.append(captured(a=i))
        out.append(list(gen(i, step=10)))
        out.append(list(gen(a=i)))
        out.append(extra(i, z=1, y=2))
        for bad in (lambda: pos(1, a=2), lambda: pos(1, 2, b=3), lambda: pos(1, e=2), lambda: required(1),
                    lambda: posonly(1, b=2), lambda: kwonly(1, 2), lambda: pos(c=1)):
            try:
                bad()
            except TypeError as e:
                out.append(str(e))
        kwonly.__kwdefaults__ = {"key": i, "flag": 0, "reverse": 1}
        out.append(kwonly(i, flag=2))
        kwonly.__kwdefaults__ = {"key": i}
        try:
            kwonly(i)
        except TypeError as e:
            out.append(str(e))
        pos.__defaults__ = (i,)
        out.append(pos(1, 2, 5))            # d from the new defaults
        try:
            pos(1, 2, d=5)                  # c has none now
        except TypeError as e:
            out.append(str(e))
        pos.__defaults__ = (3, 4)
        kwonly.__kwdefaults__ = {"key": None, "flag": True, "reverse": False}
    return out, sys.getrefcount(obj) - before


class Vec:
    def __init__(self, x):
        self.x = x

    def __repr__(self):
        return "Vec(%r)" % (self.x,)

    def __eq__(self, other):
        return type(other) is type(self) and other.x == self.x

    def __add__(self, other):
        return Vec(self.x + other.x)

    def __sub__(self, other):
        if other.x == 0:
            return NotImplemented           # the protocol's TypeError
        return Vec(self.x - other.x)

    def __mul__(self, other):
        caller = sys._getframe(1)           # the compiled caller's frame
        return (caller.f_code.co_name, caller.f_lineno - caller.f_code.co_firstlineno, self.x * other.x)

    def __truediv__(self, other):
        return Vec(self.x / other.x)        # ZeroDivisionError inside

    def __iadd__(self, other):              # in place: the protocol's way
        return Vec(("iadd", self.x, other.x))

    def __matmul__(self, other):
        return "matmul"


class Scaled:
    """Operands of other classes: ints, floats, str, None."""
    def __init__(self, k):
        self.k = k

    def __eq__(self, other):
        return type(other) is Scaled and other.k == self.k

    def __repr__(self):
        return "Scaled(%r)" % (self.k,)

    def __mul__(self, other):
        if isinstance(other, (int, float)):
            return Scaled(self.k * other)
        return NotImplemented               # then the other's slot, then TypeError

    def __and__(self, other):
        return NotImplemented


class DeclinedFloat(float):
    def __mul__(self, other):
        return NotImplemented               # float's own slot then: a value


class SubVec(Vec):
    def __rsub__(self, other):              # reflected first: a subclass
        return "SubVec.__rsub__"


class ListVec(list):
    def __add__(self, other):
        return NotImplemented

    def __mul__(self, other):
        return NotImplemented               # list's sq_repeat then


# One operator each and no loop: compiled after the interpreter has run
# them (feedback GENERIC for instances), as methods like Vector.__sub__'s
# callers are; code without feedback keeps the number protocol's helper.
def add(a, b):
    return a + b


def sub(a, b):
    return a - b


def mul(a, b):
    return a * b


def truediv(a, b):
    return a / b


def floordiv(a, b):
    return a // b


def matmul(a, b):
    return a @ b


def and_(a, b):
    return a & b


def iadd(a, b):
    a += b
    return a


def isub(a, b):
    a -= b
    return a


OPERATIONS = [add, sub, mul, truediv, floordiv, matmul, and_, iadd, isub]


def failure(fn, *args):
    try:
        return fn(*args)
    except (TypeError, ZeroDivisionError, AttributeError, LookupError) as e:
        tb = e.__traceback__
        names = []
        while tb is not None:
            names.append((tb.tb_frame.f_code.co_name, tb.tb_lineno - tb.tb_frame.f_code.co_firstlineno))
            tb = tb.tb_next
        return (type(e).__name__, str(e), names)


def operator_dunders(ops):
    """Binary operators whose left operand's class defines the dunder in
    Python, through the functions in ops (compiled with feedback, or
    interpreted): results, NotImplemented, failures inside and outside the
    dunder, reflected and in-place methods, other classes on the right."""
    out = []
    for i in range(3):
        a, b, z = Vec(i + 1), Vec(2), Vec(0)
        out.append([ops["add"](a, b), ops["sub"](a, b), ops["mul"](a, b), ops["matmul"](a, b),
                    ops["iadd"](a, b), ops["isub"](a, b)])
        out.append([failure(ops["sub"], a, z), failure(ops["truediv"], a, z),
                    failure(ops["floordiv"], a, b), failure(ops["sub"], a, 1),
                    failure(ops["isub"], a, z), failure(ops["add"], ListVec([1]), ListVec([2])),
                    failure(ops["mul"], ListVec([1]), 2)])
        s = Scaled(i)
        out.append([ops["mul"](s, 2), ops["mul"](s, 2.5), ops["mul"](s, True),
                    ops["mul"](DeclinedFloat(i), 1.5)])
        out.append([failure(ops["mul"], s, other) for other in ("ab", None, [1])])
        out.append([failure(ops["and_"], s, 3), ops["sub"](a, SubVec(1))])
    Vec.__add__ = lambda self, other: "replaced"
    out.append(ops["add"](Vec(1), Vec(2)))
    del Vec.__add__
    out.append(failure(ops["add"], Vec(1), Vec(2)))
    Vec.__add__ = _vec_add
    return out


_vec_add = Vec.__add__


class Loud:
    """Logs, when freed, its name and the function of the frame below."""

    def __init__(self, name, log):
        self.name, self.log = name, log

    def __del__(self):
        self.log.append((self.name, sys._getframe(1).f_code.co_name))


def frames_released_on_return():
    # the finish taken without a GC-mode switch releases the callee's locals
    # only while that frees nothing but ints and floats; a Loud held by the
    # callee alone, a function that dies with its call, a frame object or
    # an exception leave the rest to the full finish
    log = []

    def shared(a, b):
        total = a.name + b
        return total

    def only_here(tag, keep):
        temp = Loud(tag, log)
        x = 1.5 * len(tag)
        n = 10 ** 20 + len(tag)
        return x + n + len(keep)

    def failing(tag):
        temp = Loud(tag + "!", log)
        return 1 / 0

    kept = Loud("kept", log)
    out = [shared(kept, "x") for _ in range(3)]
    out += [only_here(t, kept.name) for t in ("a", "bb", "ccc")]
    out += [(lambda v: v * 2.5)(i) for i in range(3)]
    for t in "pq":
        try:
            failing(t)
        except ZeroDivisionError as e:
            out.append(str(e))
    out.append(log[:])
    return out


def kwdefaults_with_a_key_that_runs_code():
    # finding the default runs Key.__eq__: not in a leaf call
    seen = []

    class Key:
        def __hash__(self):
            return hash("flag")

        def __eq__(self, other):
            seen.append(other)
            return False

    def kwonly(a, *, flag=0):
        return a, flag

    kwonly.__kwdefaults__ = {Key(): 1, "flag": 5}
    return [kwonly(i) for i in range(3)], seen


def recursion_budget_after_many_calls():
    # each call through the leaf halves gives back the recursion budget it took
    def f(x):
        return x + 1

    def depth(n):
        try:
            return depth(n + 1)
        except RecursionError:
            return n

    before = depth(0)
    for i in range(20000):
        f(i)
    return depth(0) - before


CASES = [
    (c_functions_called_without_feedback, (3,)),
    (guessed_calls_meet_other_callables, (3,)),
    (escaped_frames, ()),
    (traceback_frames, ()),
    (defaults_and_argument_errors, (0,)),
    (defaults_and_argument_errors, (1,)),
    (defaults_and_argument_errors, (2,)),
    (defaults_and_argument_errors, (3,)),
    (not_shortcut_calls, ()),
    (star_calls, ()),
    (star_call_raises, (5,)),
    (variadic_calls, (3,)),
    (variadic_calls_release_their_arguments, ()),
    (recursion, (200,)),
    (recursion, (100000,)),
    (frame_object_made_during_call_then_dropped, ()),
    (frames_released_on_return, ()),
    (recursion_budget_after_many_calls, ()),
    (kwdefaults_with_a_key_that_runs_code, ()),
]


@pytest.mark.parametrize("fn,args", CASES, ids=["%s%r" % (f.__name__, a) for f, a in CASES])
def test_direct_call(fn, args):
    differential(fn, *args)


def test_keyword_calls():
    assert differential(keyword_calls, 3).describe()[0] == "value"


def test_operator_dunders():
    plain = {fn.__name__: fn for fn in OPERATIONS}
    compiled = {fn.__name__: warmed_copy(fn, *((7, 2) if fn in (floordiv, and_) else (Vec(1), Vec(2))))
                for fn in OPERATIONS}           # no Vec.__floordiv__, __and__
    pyjion_clr.disable()
    expected = run_interpreted(operator_dunders, plain).describe()
    pyjion_clr.enable()
    before = pyjion_clr.stats()["direct_calls"]
    outcome = run_compiled(operator_dunders, compiled).describe()
    assert outcome[0] == "value"
    assert outcome == expected
    assert all(pyjion_clr.info(fn).compiled for fn in compiled.values())
    # the dunders ran through their direct entries (as did __init__s)
    assert pyjion_clr.stats()["direct_calls"] - before >= 40

    class Flat:
        def __sub__(self, other):
            return 1                        # calls nothing itself

        def __mul__(self, other):
            return 2

    a, b = Flat(), Flat()

    def operate():
        a - b
        a * 3.5                             # another class, a C slot
    warm = warmed_copy(operate)
    before = pyjion_clr.stats()["direct_calls"]
    for i in range(10):
        warm()
    assert pyjion_clr.stats()["direct_calls"] - before == 20


def subscript(c, k):
    return c[k]


class Box:
    def __init__(self, items):
        self.items = items

    def __getitem__(self, key):
        return self.items[key]


class ScaledBox(Box):
    def __getitem__(self, key, scale=10):
        return super().__getitem__(key) * scale


class Spread(Box):
    def __getitem__(self, *keys):
        return keys


class Lazy(Box):
    def __getitem__(self, key):
        yield key


class Counted(dict):
    def __getitem__(self, key):
        return ("counted", super().__getitem__(key))


class Plain(dict):
    pass


class Depth:
    def __getitem__(self, n):
        return self[n - 1] + 1 if n else 0


def subscript_dunders(sub):
    """c[k] through sub (compiled with feedback, or interpreted) where c's
    class has a Python __getitem__: results, errors inside it and outside,
    defaults, *args, a generator, dict subclasses with and without one,
    the method replaced and deleted, recursion to the limit."""
    out = []
    log = []
    box = Box([Loud("item", log), 1, 2.5])
    for k in (1, 2, -1, slice(1, 3)):
        out.append(sub(box, k))
    out.append([failure(sub, box, 7), failure(sub, box, "x"), failure(sub, Box(None), 0)])
    out.append([sub(ScaledBox([1, 2]), 1), sub(Spread([]), (1, 2)), list(sub(Lazy([]), 3))])
    out.append([sub(Counted(a=1), "a"), sub(Plain(a=2), "a"), failure(sub, Counted(), "b")])
    out.append([sub([5, 6], 1), sub({"k": 1}, "k"), sub("abc", 1)])
    Box.__getitem__ = lambda self, key: ("replaced", key)
    out.append(sub(box, 0))
    del Box.__getitem__
    out.append(failure(sub, box, 0))
    Box.__getitem__ = _box_getitem
    out.append(sub(Depth(), 50))
    try:
        sub(Depth(), 100000)
    except RecursionError:
        out.append("RecursionError")
    del box
    out.append(log)
    return out


_box_getitem = Box.__getitem__


def test_subscript_dunders():
    """A class's Python __getitem__ runs through its direct entry (the
    interpreter, with the frame hook installed, never specialises the
    site: it is GENERIC), as PyObject_GetItem would call it."""
    pyjion_clr.disable()
    expected = run_interpreted(subscript_dunders, subscript).describe()
    pyjion_clr.enable()
    warm = warmed_copy(subscript, Box([1, 2]), 0)
    outcome = run_compiled(subscript_dunders, warm).describe()
    assert outcome[0] == "value"
    assert outcome == expected
    assert "binary_subscr_direct" in listing(warm)
    pyjion_clr.enable()

    def direct_calls(container, key):
        before = pyjion_clr.stats()["direct_calls"]
        for _ in range(10):
            warm(container, key)
        return pyjion_clr.stats()["direct_calls"] - before

    # one more direct call each time than with a C __getitem__
    assert direct_calls(Box([1, 2]), 1) - direct_calls(Plain(a=1), "a") == 10


def tracing_switched_on_by_a_callee():
    # the callee runs through its direct entry, sharing the caller's CFrame:
    # the tracing flag it sets must reach the calls that follow
    events = []

    def tracer(frame, event, arg):
        if event == "call":
            events.append(frame.f_code.co_name)

    def start():
        sys.settrace(tracer)

    def work(x):
        return x + 1

    out = [work(1), work(2)]
    start()
    try:
        out.append(work(3))
    finally:
        sys.settrace(None)
    out.append(work(4))
    return out, events


def compiled_callee_raises_through_compiled_callers():
    def inner(x):
        return 10 // x

    def middle(x):
        return inner(x) + 1

    out = []
    for x in (5, 2, 0, 1):
        try:
            out.append(middle(x))
        except ZeroDivisionError as e:
            tb = e.__traceback__
            names = []
            while tb is not None:
                names.append((tb.tb_frame.f_code.co_name, tb.tb_lineno - tb.tb_frame.f_code.co_firstlineno))
                tb = tb.tb_next
            out.append(names)
    return out


def callee_frame_sees_its_caller():
    def callee():
        f = sys._getframe(1)
        return f.f_code.co_name, f.f_lineno - f.f_code.co_firstlineno

    return [callee() for _ in range(3)]


def classes_called_from_compiled_code():
    log = []

    class Plain:
        def __init__(self, a, b=2):
            self.a, self.b = a, b

    class ReturnsValue:
        def __init__(self):
            return 5

    class Raises:
        def __init__(self, x):
            raise ValueError(x)

    class Finalized:
        def __init__(self, n):
            self.n = n

        def __del__(self):
            log.append("del %d" % self.n)

    class WithNew:
        def __new__(cls, v):
            log.append("new")
            return super().__new__(cls)

        def __init__(self, v):
            self.v = v

    class Child(Plain):
        pass

    out = []
    for i in range(3):
        out.append(vars(Plain(i)))
        out.append(vars(Plain(i, b=i)))
        out.append(vars(Child(i, 7)))
        out.append(WithNew(i).v)
        Finalized(i)
        for make in (ReturnsValue, lambda: Raises(i), lambda: Plain(), lambda: Plain(1, 2, 3)):
            try:
                make()
            except (TypeError, ValueError) as e:
                out.append((type(e).__name__, str(e)))
    return out, log


def releases_when_calls_return():
    """What a callee's frame and the call release at return, in the
    interpreter's order: ints and floats freed on the quiet path (no GC-mode
    switch), anything with a finalizer, a cell, or a function whose last
    reference the call held on the full one."""
    log = []

    class Finalized:
        def __init__(self, n):
            self.n = n

        def __del__(self):
            log.append("del %d" % self.n)

    class Box:
        def method(self, n):
            tmp = Finalized(n)
            return n * 2

    def numbers(n):
        big = (n + 1) * 10 ** 30
        f = float(n) + 0.5
        return big // 10 ** 30 + int(f)

    def raises(n):
        held = Finalized(n + 50)
        raise ValueError(n)

    def make(k):
        held = Finalized(k + 100)
        return lambda: held.n

    box = Box()
    shared = [1, 2]
    before = sys.getrefcount(shared), sys.getrefcount(box)
    out = []
    for i in range(3):
        out.append(numbers(i))
        log.append("after numbers")
        out.append(box.method(i))
        log.append("after method")
        out.append(getattr(box, "method")(i + 10))
        log.append("after bound method")
        out.append(make(i)())
        log.append("after closure")
        out.append((lambda xs, k: xs[k % 2] + k)(shared, i))
        try:
            raises(i)
        except ValueError as e:
            out.append(str(e))
            log.append("caught")
        log.append("after raises")
    return out, log, (sys.getrefcount(shared), sys.getrefcount(box)) == before


def generators_resumed_from_compiled_code():
    """Compiled generators resumed by for and yield from (the quiet path
    while they yield, the full one when they finish or raise)."""
    log = []

    class Finalized:
        def __del__(self):
            log.append("del")

    def counter(n):
        held = Finalized()
        for i in range(n):
            got = yield i
            log.append(("got", got))
        return "done %d" % n

    def delegating(n):
        result = yield from counter(n)
        log.append(result)
        yield result

    def failing():
        yield 1
        raise KeyError("gone")

    out = [list(counter(3)), list(delegating(2))]
    g = delegating(3)
    out.append([next(g), g.send("a"), g.send("b")])
    try:
        out.append([x for x in failing()])
    except KeyError as e:
        out.append(repr(e))
    return out, log


def recorded_sites_meet_other_callees():
    """A CALL site records the function, or class with a Python __init__,
    it called through a direct entry (direct_call.h); every later call
    checks that it is that callee again, called the same way."""
    def one(a, b):
        return ("one", a, b)

    def two(a, b):
        return ("two", a, b)

    def short(a, b=5):
        return ("short", a, b)

    def gen(a, b):
        yield a + b

    def other_code(a, b):
        return ("other code", a, b)

    class A:
        def __init__(self, x):
            self.x = ("A", x)

    class B(A):
        pass

    class C:
        def __init__(self, x):
            self.x = ("C", x)

    class Bad:
        def __init__(self, x):
            self.x = x
            return x

    def other_init(self, x):
        self.x = ("other init", x)

    class Holder:
        def m(self, a):
            return ("m", a)

    out = []
    callees = [one, two, one, short, gen, one]
    for i in range(12):
        result = callees[i % len(callees)](i, i)        # one site, several callees
        out.append(result if isinstance(result, tuple) else list(result))
        out.append(short(i))                            # a default: never recorded
    one.__code__ = other_code.__code__                  # new code under a record
    out.append(one(1, 2))
    classes = [A, A, B, C, A, Bad]
    for i, cls in enumerate(classes * 2):
        try:
            out.append(cls(i if i % 3 else None).x)
        except TypeError as e:
            out.append(str(e))
        if i == 7:
            A.__init__ = other_init                     # the class's version changes
    for g in (one, Holder().m, one, A):                 # a bound method, a class
        try:
            out.append(repr(g(7)) if g is not A else g(7).x)
        except TypeError as e:
            out.append(str(e))
    return out


def polymorphic_call_sites():
    """A site calling more callees in turn than it keeps records of
    (four): functions with frames of several sizes and classes, some
    evicted and recorded again."""
    def f0(a):
        return ("f0", a)

    def f1(a):
        x = a + 1
        return ("f1", x)

    def f2(a, b=2):
        x, y = a, b
        return ("f2", x, y)

    class K:
        def __init__(self, a):
            self.v = ("K", a)

        def __repr__(self):
            return repr(self.v)

    class L(K):
        def __init__(self, a):
            super().__init__(a)                 # a bound method called
            self.v = ("L",) + self.v

    callees = [f0, f1, f2, K, L, f0, L, f2]
    out = []
    for i in range(40):
        out.append(callees[(i * 3) % len(callees)](i))
    return repr(out)


def recorded_calls_with_defaults():
    """Records of calls that leave parameters to the defaults: the
    defaults are the function's, which may differ between functions of one
    code, and change."""
    def make(default):
        def made(a, b=default, c=default * 2):
            return ("made", a, b, c)
        return made

    out = []
    for i in range(6):                                  # one code, its functions'
        made = make(i)                                  # defaults differ
        if i == 4:
            made.__defaults__ = (None,)
        if i == 5:
            made.__defaults__ = None
        try:
            out.append(made(i))
        except TypeError as e:
            out.append(str(e))
        try:
            out.append(made(i, 1))
        except TypeError as e:
            out.append(str(e))
        out.append(made(i, 1, 2))
    return out


def recorded_callee_code_freed():
    """Code objects made and freed while a site's record names one: another
    code made at the freed one's address must not pass for it (its frame
    has another size: a slot the record does not know to clear would show
    what the first call left there)."""
    out = []
    for i in range(24):
        source = "def f(a, b):\n    if b == 1:\n"
        source += "".join("        x%d = a + %d\n" % (k, k) for k in range(i % 7))
        source += "        return a\n    return (a, b, %d, sorted(locals()))\n" % i
        namespace = {}
        exec(compile(source, "<generated %d>" % i, "exec"), namespace)
        f = namespace["f"]
        out.append(f(i, 1))
        out.append(f(i, 2))
        namespace.clear()                               # f's code is freed now
        del f
    return out


DIRECT_ENTRY_CASES = [recorded_sites_meet_other_callees,
                      polymorphic_call_sites,
                      recorded_calls_with_defaults,
                      recorded_callee_code_freed,
                      releases_when_calls_return,
                      generators_resumed_from_compiled_code,
                      classes_called_from_compiled_code,
                      tracing_switched_on_by_a_callee,
                      compiled_callee_raises_through_compiled_callers,
                      callee_frame_sees_its_caller]


@pytest.mark.parametrize("fn", DIRECT_ENTRY_CASES, ids=[f.__name__ for f in DIRECT_ENTRY_CASES])
def test_calls_between_compiled_functions(fn):
    differential(fn)


_DEEP_RECURSION_PROBE = """
import os
import sys
sys.setrecursionlimit(10 ** 7)
if sys.argv[1] == "jit":
    import pyjion_clr
    pyjion_clr.enable()
    pyjion_clr.config(threshold=0)

def down(k):
    return 0 if k == 0 else 1 + down(k - 1)

print(down(2000))
try:
    down(10 ** 6)
    print("finished")
except RecursionError:
    print("RecursionError")
print(down(3000))
"""


# With a frame hook installed every Python call recurses in C (and compiled
# methods call each other on the machine stack): recursion far past the
# default limit must end in RecursionError, never a stack overflow.  The
# interpreter alone finishes it (its calls do not recurse in C), so only the
# JIT's outcome is pinned down.
def test_deep_recursion_raises_instead_of_overflowing_the_stack(tmp_path):
    import subprocess
    probe = tmp_path / "deep.py"
    probe.write_text(_DEEP_RECURSION_PROBE)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    jit = subprocess.run([sys.executable, str(probe), "jit"], capture_output=True, text=True,
                         env=env, timeout=300)
    assert jit.returncode == 0, jit.stderr[-2000:]
    assert jit.stdout == "2000\nRecursionError\n3000\n"


def test_direct_calls_are_counted():
    """stats() tells calls compiled code made through callees' direct
    entries from those that came through the hook."""
    def callee(x, *, step=1, scale=1):
        return x * scale + step

    def spread(x, *args, **kwargs):
        return x + len(args) - len(kwargs)

    def caller(n):
        total = 0
        for i in range(n):
            total = callee(total)
            total = callee(total, step=-1)      # keywords: direct too
            total = spread(total, i, k=i)       # *args and **kwargs: direct too
        return total

    before = pyjion_clr.stats()
    assert run_compiled(caller, 50).value == 0
    after = pyjion_clr.stats()
    assert after["direct_calls"] - before["direct_calls"] >= 148    # the first two may compile
    assert after["compiled_calls"] - before["compiled_calls"] >= 150


def make_one(cls, a):
    return cls(a)


def _instances_story(fn):
    """Classes called at a site the interpreter gave up on (it does on
    classes), whose calls take the leaf halves where making the instance
    runs no code: values, __init__ returning something, an abstract class,
    a class changed, and allocations that start collections running
    finalizers (the leaf half declines those to the full call)."""
    import gc
    log = []

    class Pt:
        def __init__(self, a):
            self.a = a

    class Cycle:
        def __init__(self, a):
            self.me = self
            self.a = a

        def __del__(self):
            log.append(self.a)

    class BadInit:
        def __init__(self, a):
            return a

    class Abstract:
        def __init__(self, a):
            self.a = a

    out = [fn(Pt, i).a for i in range(3)]
    for i in range(3000):
        fn(Cycle, i)
    gc.collect()
    out.append(sorted(log) == list(range(3000)))
    for a in (None, 5):
        try:
            out.append(type(fn(BadInit, a)).__name__)
        except TypeError as exc:
            out.append(str(exc))
    out.append(fn(Abstract, 1).a)
    Abstract.__abstractmethods__ = frozenset({"f"})
    try:
        fn(Abstract, 1)
    except TypeError as exc:
        out.append(str(exc))
    Pt.__init__ = lambda self, a: setattr(self, "a", -a)        # a new version
    out.append(fn(Pt, 4).a)
    return out


def test_classes_called_at_warm_sites():
    from harness import listing

    class Seed:
        def __init__(self, a):
            self.a = a

    warm = warmed_copy(make_one, Seed, 1)
    assert "call_recorded_leaf" in listing(warm)
    compiled = _instances_story(warm)
    pyjion_clr.disable()
    assert compiled == _instances_story(make_one)
    assert compiled[3] is True


class Shape:
    def __init__(self, size):
        self.size = size

    def itself(self):
        return self

    def is_point(self):
        return False


def first(a, b):
    return a


def second(a, b):
    return b


def nothing():
    return None


def replaced(a, b):
    return a


class Noisy:
    """Logs its release: freeing one runs Python code."""
    log = []

    def __init__(self, name):
        self.name = name

    def __del__(self):
        Noisy.log.append(self.name)


def trivial_calls(shape, i):
    """Calls of functions whose whole body returns an argument or a
    constant: compiled code makes them without a frame where nothing the
    frame would do shows."""
    return (shape.itself() is shape, shape.is_point(), first(i, shape), second(shape, i * 0.5),
            nothing())


def noisy_calls():
    """... but not where an argument released with the call runs code (its
    __del__): those are full calls, the release in the same place."""
    Noisy.log.clear()
    Noisy.log.append("before")
    out = [first(1, Noisy("temporary"))]
    Noisy.log.append("after")
    out.append(second(Noisy("returned"), Noisy("kept")).name)
    Noisy.log.append("done")
    return out + Noisy.log


def _frameless_story(calls, noisy):
    shape = Shape(3)
    refs = sys.getrefcount(shape)
    out = [calls(shape, i) for i in range(200)]
    out.append(sys.getrefcount(shape) - refs)     # no reference kept or lost
    out.append(noisy())
    return out


def call_replaced(i):
    return replaced(i, -i)


def test_calls_of_functions_that_only_return_an_argument_or_a_constant():
    from harness import listing
    expected = _frameless_story(trivial_calls, noisy_calls)
    warm_calls = warmed_copy(trivial_calls, Shape(1), 3)
    warm_noisy = warmed_copy(noisy_calls)
    assert "call_recorded_leaf" in listing(warm_calls)
    before = pyjion_clr.stats()
    assert _frameless_story(warm_calls, warm_noisy) == expected
    made = pyjion_clr.stats()["direct_calls"] - before["direct_calls"]
    assert made >= 5 * 200          # the frameless calls count as compiled calls
    # a recorded callee given another body runs that body
    warm_replaced = warmed_copy(call_replaced, 3)
    assert [warm_replaced(i) for i in range(3)] == [0, 1, 2]
    saved = replaced.__code__
    try:
        replaced.__code__ = second.__code__
        assert [warm_replaced(i) for i in range(3)] == [0, -1, -2]
        replaced.__code__ = (lambda a, b: a + b).__code__
        assert [warm_replaced(i) for i in range(3)] == [0, 0, 0]
    finally:
        replaced.__code__ = saved
    pyjion_clr.disable()


def trivial_calls_once(shape, i):
    return shape.itself() is shape, first(i, shape), second(shape, i * 0.5), nothing()


def test_frameless_calls_from_code_compiled_without_feedback():
    """Code compiled at its first call, before any feedback, makes its
    calls outside loops through the full call helper (no leaf halves): it
    makes the same calls without a frame once the sites have recorded
    them.  (Fewer calls than it takes to have the code compiled again with
    feedback.)"""
    shape = Shape(2)
    refs = sys.getrefcount(shape)
    expected = [trivial_calls_once(shape, i) for i in range(60)]
    compiled = fresh_copy(trivial_calls_once)
    before = pyjion_clr.stats()
    assert [run_compiled(compiled, shape, i).value for i in range(60)] == expected
    assert pyjion_clr.stats()["direct_calls"] - before["direct_calls"] >= 4 * 59
    assert "call_recorded_leaf" not in listing(compiled)
    del expected
    assert sys.getrefcount(shape) == refs


def ident(x):
    return x


def descend(n):
    if n == 0:
        return ident(n)
    return descend(n - 1)


def _depths_reached(fn):
    limit = sys.getrecursionlimit()
    frame, here = sys._getframe(), 0
    while frame is not None:
        frame, here = frame.f_back, here + 1
    sys.setrecursionlimit(here + 40)
    try:
        out = []
        for depth in range(20, 60):
            try:
                out.append(fn(depth))
            except RecursionError:
                out.append("RecursionError")
        return out
    finally:
        sys.setrecursionlimit(limit)


def test_frameless_call_at_the_recursion_limit_raises():
    """A call of a function that only returns its argument, made at the
    recursion limit, raises RecursionError as the interpreter's call does
    (the frameless call declines there, the full call raises)."""
    global descend
    expected = _depths_reached(descend)
    assert "RecursionError" in expected and 0 in expected
    warm = warmed_copy(descend, 3)
    plain, descend = descend, warm      # the recursion goes through the compiled copy
    try:
        assert _depths_reached(warm) == expected
    finally:
        descend = plain
        pyjion_clr.disable()
