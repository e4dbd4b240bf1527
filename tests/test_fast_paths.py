"""The inline fast paths (native/specialize.pyx) against the interpreter,
with the inputs that must make each guard fail: every case runs in a loop so
a cache filled in one iteration is tested by the next."""

import pytest

from harness import differential

X = 1


def arithmetic_mixes():
    out = []
    values = [3, -7, 0, 2**30 - 1, 2**30, -(2**30), 2**62, 1.5, -0.0, float("inf"),
              float("nan"), True, 10**20, 2.5]
    for a in values:
        for b in values:
            row = []
            for op in (lambda x, y: x + y, lambda x, y: x - y, lambda x, y: x * y):
                try:
                    row.append(repr(op(a, b)))
                except Exception as e:        # noqa: BLE001 - compared both ways
                    row.append(type(e).__name__)
            try:
                row.append(repr(a / b))
            except ZeroDivisionError as e:
                row.append(str(e))
            out.append(row)
    return out


def float_results_do_not_alias():
    a = 0.5
    b = a * 2.0          # a is held by a local: must not be overwritten
    c = (a + b) * (b - a)  # temporaries may be reused
    total = 0.0
    for i in range(100):
        total += a * i   # the in-place form
    d = a
    d += 1.0
    return a, b, c, total, d, a is not d


def comparisons_and_branches():
    values = [1, 2, 2**31, -(2**40), 1.0, 2.5, float("nan"), -0.0, 0, True]
    out = []
    for a in values:
        for b in values:
            flags = 0
            if a < b:
                flags |= 1
            if a <= b:
                flags |= 2
            if a == b:
                flags |= 4
            if a != b:
                flags |= 8
            if not a > b:
                flags |= 16
            if not a >= b:
                flags |= 32
            out.append(flags)
    i, n = 0, 0
    while i < 50:        # a fused compare on a backward jump
        i += 1
        n += i
    return out, n


class Odd:
    def __lt__(self, other):
        return "yes"     # truthy, not a bool

    def __gt__(self, other):
        raise ValueError("no ordering")


def rich_compare_fallbacks(which):
    o = Odd()
    if which == 0:
        return [1 if o < 1 else 0 for _ in range(3)]
    if o > 1:
        return "unreachable"


def bad_operands():
    return [1 + "a" for _ in range(2)]


def globals_change_between_reads():
    global X
    seen = []
    for i in range(6):
        seen.append(X)
        if i == 2:
            X = "rebound"
        if i == 4:
            del X
            try:
                seen.append(X)
            except NameError as e:
                seen.append(str(e))
            X = 1
    return seen


def builtin_shadowed_by_global():
    g = globals()
    seen = []
    for i in range(4):
        seen.append(len("ab"))
        if i == 1:
            g["len"] = lambda s: -1
    del g["len"]
    seen.append(len("abc"))
    return seen


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


class Slotted:
    __slots__ = ("x",)

    def __init__(self, x):
        self.x = x


def attribute_guards():
    seen = []
    p = Point(1, 2)
    for i in range(8):
        seen.append(p.x)
        if i == 1:
            p.x = "changed"
        if i == 2:
            del p.x
            try:
                seen.append(p.x)
            except AttributeError as e:
                seen.append(str(e))
            p.x = 3
        if i == 3:
            p.__dict__["x"] = "via dict"       # the dict is materialised
        if i == 4:
            Point.x = property(lambda self: "property wins")
        if i == 5:
            del Point.x
    return seen


def polymorphic_attribute_site():
    class A:
        def __init__(self):
            self.v = "a"

    class B:
        def __init__(self):
            self.w = 0
            self.v = "b"

    class C:
        v = "class attribute"

    out = []
    for obj in [A(), B(), A(), C(), Slotted(5), B(), A()] * 2:
        out.append(obj.v if not isinstance(obj, Slotted) else obj.x)
    return out


def missing_attribute_after_hits():
    objs = [Point(1, 2)] * 3 + [object()]
    return [o.x for o in objs]


CASES = [
    (arithmetic_mixes, ()),
    (float_results_do_not_alias, ()),
    (comparisons_and_branches, ()),
    (rich_compare_fallbacks, (0,)),
    (rich_compare_fallbacks, (1,)),
    (bad_operands, ()),
    (globals_change_between_reads, ()),
    (builtin_shadowed_by_global, ()),
    (attribute_guards, ()),
    (polymorphic_attribute_site, ()),
    (missing_attribute_after_hits, ()),
]


@pytest.mark.parametrize("fn,args", CASES, ids=["%s%r" % (f.__name__, a) for f, a in CASES])
def test_fast_path(fn, args):
    differential(fn, *args)

