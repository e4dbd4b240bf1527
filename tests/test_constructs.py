"""One differential test per language construct: each function runs in the
interpreter and compiled, and both must agree (see harness.py)."""

import collections
import math

import pytest

from harness import differential

GLOBAL_VALUE = 10
counter = 0


# ---------------------------------------------------------------- locals, constants
def locals_and_consts(a, b=3):
    c = a * b
    d = c - 1
    return (a, b, c, d, None, True, "s", 1.5, (1, 2))


def unbound_local(flag):
    if flag:
        x = 1
    return x  # noqa: F821 - UnboundLocalError on purpose


def locals_bound_on_some_paths(n, flag):
    """Locals bound on every path to a load (no check left), on some (the
    check raises on the others): branches, loops whose first round binds,
    a del on one branch, except clauses, an `except ... as` name."""
    out = []
    for i in range(n):
        if i % 2:
            odd = i
        out.append(odd)                 # unbound at i == 0 unless n starts odd
        last = i
    out.append(last)                    # unbound when n == 0
    try:
        if flag:
            raise KeyError(n)
        tried = 1
    except KeyError as e:
        caught = e
        out.append(caught)
    out.append(tried if not flag else "raised")
    if flag:
        del out
    return out


def locals_unbound_by_del_in_a_loop(n):
    seen = []
    x = 0
    for i in range(n):
        seen.append(x)                  # unbound after the round that deleted it
        if i == 2:
            del x
        else:
            x = i
    return seen


def local_bound_in_an_except_clause(flag):
    try:
        if flag:
            1 / 0
        value = "body"
    except ZeroDivisionError:
        value = "handler"
    return value                        # bound on both paths here


def delete_local():
    x = 1
    del x
    return x  # noqa: F821


def delete_parameter(a, *rest, flag=True):
    # parameters are bound by the call; only del can unbind one
    total = a + len(rest) + flag
    if flag:
        del a
    return total, a  # noqa: F821


# ---------------------------------------------------------------- globals, builtins
def globals_and_builtins():
    global counter
    counter += 1
    return GLOBAL_VALUE + len([1, 2]) + counter * 0


def undefined_global():
    return no_such_name  # noqa: F821


def delete_global():
    global _temp_global
    _temp_global = 5
    del _temp_global
    return "_temp_global" in globals()


# ---------------------------------------------------------------- closures
def closures(n):
    total = 0

    def add(k):
        nonlocal total
        total += k
        return total

    for i in range(n):
        add(i)
    f = lambda y: y + total  # noqa: E731
    return total, f(1), add.__code__.co_freevars


def several_free_variables(n):
    a, b, c = 1, 10, 100

    def inner(x):
        return x * a + b - c
    gen = (inner(i) + a * 1000 + c for i in range(n))
    first = next(gen)
    a, c = 2, 200       # the cells were copied, not their values
    return first, list(gen), inner(1)


def unbound_free():
    def inner():
        return x  # noqa: F821

    r = inner
    del_after = r
    x = 1
    del x
    return del_after()


# ---------------------------------------------------------------- attributes, subscripts
class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def norm2(self):
        return self.x * self.x + self.y * self.y


def attributes():
    p = Point(3, 4)
    p.z = 5
    del p.z
    return p.norm2(), p.x, hasattr(p, "z")


def missing_attribute():
    return Point(1, 2).nope


def subscripts_and_slices(seq):
    d = {"a": 1}
    d["b"] = 2
    del d["a"]
    lst = list(seq)
    lst[1:3] = [9, 9, 9]
    del lst[0]
    return d, lst, seq[::2], seq[1:-1], seq[-1], lst[1:]


def bad_subscript():
    return {}["missing"]


# ---------------------------------------------------------------- operators
def operators(a, b):
    r = [a + b, a - b, a * b, a / b, a // b, a % b, a ** 2, -a, +a, ~int(a),
         a < b, a <= b, a == b, a != b, a > b, a >= b, not a, a is b, a is not b,
         int(a) & 3, int(a) | 4, int(a) ^ 5, int(a) << 2, int(a) >> 1]
    x = a
    x += b
    x -= 1
    x *= 2
    return r, x, 3 in [1, 2, 3], 4 not in (1, 2)


def division_by_zero(a):
    return a / 0


def matmul():
    class M:
        def __matmul__(self, other):
            return "matmul"

        def __imatmul__(self, other):
            return "imatmul"
    m = M()
    r = m @ m
    m @= m
    return r, m


# ---------------------------------------------------------------- control flow
def loops(n):
    out = []
    i = 0
    while i < n:
        i += 1
        if i % 2:
            continue
        out.append(i)
        if i > 8:
            break
    else:
        out.append("no-break")
    for j in range(3):
        for k in "ab":
            out.append((j, k))
    return out


def boolean_logic(a, b):
    return (a and b, a or b, a and not b, (a or b) and 5, None or 0 or [] or "x")


def for_over_iterables():
    total = []
    for x in {1: "a", 2: "b"}.items():
        total.append(x)
    for c in "xyz":
        total.append(c)
    for v in (i * i for i in range(3)):
        total.append(v)
    return total


def none_checks(x):
    if x is None:
        return "none"
    if x is not None:
        return "some"


# ---------------------------------------------------------------- calls
def target(a, b=2, *args, c=3, **kw):
    return (a, b, args, c, sorted(kw.items()))


def calls():
    args = (1, 2, 3)
    kw = {"c": 5, "d": 6}
    return [target(1), target(1, 2, 3, 4), target(a=1, c=9), target(*args),
            target(*args, **kw), target(1, *[2, 3], x=1, **{"y": 2}),
            max(3, 4, key=lambda v: -v), "-".join(["a", "b"])]


def bad_call():
    return target(1, 2, b=3)


def bad_star_args():
    return target(*5)


def bad_star_kwargs():
    return target(**5)


class Base:
    def who(self):
        return "base"


class Derived(Base):
    def who(self):
        return "derived+" + super().who()


def method_calls_and_super():
    d = Derived()
    return d.who(), Derived.who(d), [1, 2, 3].index(2)


# ---------------------------------------------------------------- building
def building(a):
    t = (a, a + 1)
    lst = [a, *t, *[9]]
    s = {a, *t}
    d = {"k": a, **{"x": 1}}
    d2 = {a: 1, a + 1: 2}
    sl = slice(1, 2)
    f = f"{a}-{a!r}-{a:>4}-{t}-{'s'!s:5}-{a:{a}}"
    return t, lst, sorted(s), d, d2, sl, f


def comprehensions(n):
    return ([i * 2 for i in range(n) if i % 2],
            {i: i * i for i in range(n)},
            {i % 3 for i in range(n)},
            list(x + y for x in range(2) for y in range(3)))


def unpacking(seq):
    a, b, c = seq
    first, *rest = seq
    *init, last = seq
    x, (y, z) = 1, (2, 3)
    return a, b, c, first, rest, init, last, x, y, z


def unpack_errors(seq):
    a, b = seq
    return a, b


# ---------------------------------------------------------------- exceptions
def try_except(v):
    log = []
    try:
        log.append("try")
        if v == 1:
            raise ValueError("one")
        if v == 2:
            raise KeyError("two")
        if v == 3:
            return "early"
    except ValueError as e:
        log.append("value:" + str(e))
    except (KeyError, TypeError) as e:
        log.append("key:" + repr(e))
    else:
        log.append("else")
    finally:
        log.append("finally")
    return log


def raise_from():
    try:
        1 / 0
    except ZeroDivisionError as e:
        raise RuntimeError("wrapped") from e


def reraise():
    try:
        raise ValueError("inner")
    except ValueError:
        raise


def uncaught_in_nested_call():
    def inner(x):
        return x["missing"]
    return inner({})


def exception_context():
    try:
        try:
            raise ValueError("a")
        except ValueError:
            raise TypeError("b")
    except TypeError as e:
        return repr(e.__context__), e.__suppress_context__


def bad_except_type():
    try:
        raise ValueError
    except 5:  # noqa: E722
        pass


class CM:
    def __init__(self, log, swallow=False):
        self.log = log
        self.swallow = swallow

    def __enter__(self):
        self.log.append("enter")
        return self

    def __exit__(self, *exc):
        self.log.append(("exit", exc[0].__name__ if exc[0] else None))
        return self.swallow


def with_statement(fail):
    log = []
    with CM(log) as cm:
        log.append(cm is not None)
    try:
        with CM(log):
            if fail:
                raise ValueError("x")
    except ValueError:
        log.append("caught")
    with CM(log, swallow=True):
        raise KeyError("swallowed")
    return log


def not_a_context_manager():
    with 5:
        pass


def assertion(v):
    assert v > 0, "must be positive"
    assert v < 100
    return v


# ---------------------------------------------------------------- imports
def imports():
    import os.path
    from collections import OrderedDict
    from math import sqrt as root
    import json as j
    return os.path.join("a", "b"), OrderedDict.__name__, root(16), j.dumps([1])


def bad_import():
    from math import no_such_thing  # noqa: F401


# ---------------------------------------------------------------- classes, decorators
def decorate(fn):
    def wrapper(*a, **k):
        return ("decorated", fn(*a, **k))
    return wrapper


def classes_and_decorators(v):
    class Local:
        attr = v

        def __init__(self):
            self.x = v * 2

        @property
        def doubled(self):
            return self.x

        @staticmethod
        def stat():
            return "static"

    @decorate
    def f(y):
        return y + 1

    return Local.attr, Local().doubled, Local.stat(), f(v), Local.__qualname__


# ---------------------------------------------------------------- match
def match_statement(subject):
    match subject:
        case 0 | 1:
            return "small"
        case [x, y, *rest]:
            return ("seq", x, y, rest)
        case {"k": v, **others}:
            return ("map", v, others)
        case Point(x=0, y=yy):
            return ("point-on-axis", yy)
        case Point(x=xx):
            return ("point", xx)
        case str() as s if len(s) > 2:
            return ("long-str", s)
        case int(n):
            return ("int", n)
        case _:
            return "other"


# ---------------------------------------------------------------- except*
def except_star(kind):
    log = []
    try:
        if kind == "group":
            raise ExceptionGroup("eg", [ValueError(1), TypeError(2), KeyError(3)])
        if kind == "naked":
            raise ValueError("naked")
        if kind == "raise-in-handler":
            raise ExceptionGroup("eg", [ValueError(1)])
    except* ValueError as eg:
        log.append(("value", repr(eg.exceptions)))
        if kind == "raise-in-handler":
            raise RuntimeError("from handler")
    except* (TypeError, KeyError) as eg:
        log.append(("type/key", sorted(repr(e) for e in eg.exceptions)))
    return log


def except_star_partial():
    try:
        raise ExceptionGroup("eg", [ValueError(1), OSError(2)])
    except* ValueError:
        pass


def except_star_rejects_groups():
    try:
        raise ValueError
    except* ExceptionGroup:
        pass


# ---------------------------------------------------------------- module bodies
def module_body_with_star_import():
    code = compile("from math import *\nx = sqrt(16) + pi * 0\n"
                   "for i in range(3):\n    x += i\n", "<module>", "exec")
    ns = {}
    exec(code, ns)
    return ns["x"], "floor" in ns, "_private" in ns


# ---------------------------------------------------------------- frames
def frame_introspection(a):
    import inspect
    import sys
    f = sys._getframe()
    b = a + 1
    names = sorted(k for k in locals() if k not in ("inspect", "sys"))
    return (f.f_code.co_name, f.f_lineno, names, locals()["b"],
            inspect.currentframe().f_lineno, f.f_back.f_code.co_name, b)


class _ReportsItsCallersLine:
    def __init__(self, log):
        self.log = log

    def __del__(self):
        import sys
        self.log.append(("del", sys._getframe(1).f_lineno))


def _callers_line():
    import sys
    return sys._getframe(1).f_lineno


def _suspends():
    yield 1
    yield 2


def lines_seen_from_outside(n):
    """The current line as code run from a compiled frame sees it: compiled
    code stores it only before calls, so each kind of call must."""
    log = []
    x = _ReportsItsCallersLine(log)
    total = n * 2.5
    x = None                            # __del__ from a STORE_FAST
    log.append(("call", _callers_line()))
    pair = [_callers_line(),
            total + _callers_line()]
    g = _suspends()
    next(g)
    log.append(("suspended", g.gi_frame.f_lineno))
    x = _ReportsItsCallersLine(log)
    del x                               # __del__ from a DELETE_FAST
    items = [_ReportsItsCallersLine(log)]
    items[0] = total                    # __del__ from a STORE_SUBSCR
    return log, pair


def deep_recursion(n):
    return deep_recursion(n + 1)


CASES = [
    (locals_and_consts, (2,)),
    (locals_and_consts, (2, 5)),
    (unbound_local, (False,)),
    (unbound_local, (True,)),
    (locals_bound_on_some_paths, (0, False)),
    (locals_bound_on_some_paths, (1, False)),
    (locals_bound_on_some_paths, (3, False)),
    (locals_bound_on_some_paths, (3, True)),
    (locals_unbound_by_del_in_a_loop, (2,)),
    (locals_unbound_by_del_in_a_loop, (5,)),
    (local_bound_in_an_except_clause, (False,)),
    (local_bound_in_an_except_clause, (True,)),
    (delete_local, ()),
    (delete_parameter, (1, 2, 3)),
    (globals_and_builtins, ()),
    (undefined_global, ()),
    (delete_global, ()),
    (closures, (5,)),
    (several_free_variables, (4,)),
    (unbound_free, ()),
    (attributes, ()),
    (missing_attribute, ()),
    (subscripts_and_slices, ((1, 2, 3, 4, 5),)),
    (subscripts_and_slices, ("abcdef",)),
    (bad_subscript, ()),
    (operators, (7, 3)),
    (operators, (7.5, 2.5)),
    (division_by_zero, (1,)),
    (matmul, ()),
    (loops, (5,)),
    (loops, (20,)),
    (boolean_logic, (0, 5)),
    (boolean_logic, ([1], None)),
    (for_over_iterables, ()),
    (none_checks, (None,)),
    (none_checks, (0,)),
    (calls, ()),
    (bad_call, ()),
    (bad_star_args, ()),
    (bad_star_kwargs, ()),
    (method_calls_and_super, ()),
    (building, (3,)),
    (comprehensions, (7,)),
    (unpacking, ([1, 2, 3],)),
    (unpacking, ("xyz",)),
    (unpack_errors, ([1, 2, 3],)),
    (unpack_errors, ([1],)),
    (unpack_errors, (5,)),
    (try_except, (0,)),
    (try_except, (1,)),
    (try_except, (2,)),
    (try_except, (3,)),
    (raise_from, ()),
    (reraise, ()),
    (uncaught_in_nested_call, ()),
    (exception_context, ()),
    (bad_except_type, ()),
    (with_statement, (False,)),
    (with_statement, (True,)),
    (not_a_context_manager, ()),
    (assertion, (5,)),
    (assertion, (-1,)),
    (assertion, (500,)),
    (imports, ()),
    (bad_import, ()),
    (classes_and_decorators, (4,)),
    (match_statement, (0,)),
    (match_statement, ([1, 2, 3, 4],)),
    (match_statement, ({"k": 1, "z": 2},)),
    (match_statement, (Point(0, 7),)),
    (match_statement, (Point(3, 7),)),
    (match_statement, ("hello",)),
    (match_statement, ("hi",)),
    (match_statement, (42,)),
    (match_statement, (4.5,)),
    (except_star, ("group",)),
    (except_star, ("naked",)),
    (except_star, ("raise-in-handler",)),
    (except_star, ("none",)),
    (except_star_partial, ()),
    (except_star_rejects_groups, ()),
    (module_body_with_star_import, ()),
    (frame_introspection, (1,)),
    (lines_seen_from_outside, (3,)),
    (deep_recursion, (0,)),
]


def test_loads_of_bound_locals_are_not_checked():
    """A LOAD_FAST checks its local only where some path reaches it with
    the local unbound (Analysis.bound_before)."""
    from pyjion_clr import _bytecode

    def checked_loads(fn):
        analysis = _bytecode.analyze(fn.__code__)
        names = fn.__code__.co_varnames
        return sorted({names[ins.oparg] for ins in analysis.instrs
                       if ins.name == "LOAD_FAST"
                       and not analysis.bound_before[ins.index] >> ins.oparg & 1})

    assert checked_loads(locals_bound_on_some_paths) == ["last", "odd", "out", "tried"]
    assert checked_loads(locals_unbound_by_del_in_a_loop) == ["x"]
    assert checked_loads(local_bound_in_an_except_clause) == []
    assert checked_loads(loops) == []


@pytest.mark.parametrize("fn,args", CASES, ids=["%s%r" % (f.__name__, a) for f, a in CASES])
def test_construct(fn, args):
    differential(fn, *args)
