"""The inline fast paths (native/specialize.pyx) against the interpreter,
with the inputs that must make each guard fail: every case runs in a loop so
a cache filled in one iteration is tested by the next."""

import math
from math import cos, exp, log, sin, sqrt, tan   # sqrt: rebound by math_names_bound_to_other_things

import pytest

from harness import differential

X = 1


def arithmetic_mixes():
    out = []
    values = [3, -7, 0, 7, -3, 2**30 - 1, 2**30, -(2**30), 2**62, 1.5, -0.0, float("inf"),
              float("nan"), True, 10**20, 2.5, -2.5]
    for a in values:
        for b in values:
            row = []
            for op in (lambda x, y: x + y, lambda x, y: x - y, lambda x, y: x * y,
                       lambda x, y: x // y, lambda x, y: x % y):
                try:
                    row.append(repr(op(a, b)))
                except Exception as e:        # noqa: BLE001 - compared both ways
                    row.append(type(e).__name__)
            try:
                row.append(repr(a / b))
            except ZeroDivisionError as e:
                row.append(str(e))
            acc = a
            try:
                acc //= b if b else 1
                acc %= b if b else 5
                acc /= 3
            except Exception as e:            # noqa: BLE001 - compared both ways
                acc = type(e).__name__
            row.append(repr(acc))
            out.append(row)
    return out


def constant_operands():
    # a LOAD_CONST float or one-digit int is folded into the code as a
    # literal; the other operand still takes every guard, and a constant of
    # another kind (bool, big int, -0.0, inf, NaN) takes none of the folding
    out = []
    values = [3, -7, 0, 7, -1, 2**30 - 1, -(2**30 - 1), 2**30, 2**62, 1.5, -0.0,
              float("inf"), float("nan"), True, 10**20, "s", None]
    for a in values:
        row = []
        for op in (lambda x: x // 2, lambda x: x % 2, lambda x: x // -3, lambda x: x % -3,
                   lambda x: 7 // x, lambda x: -7 % x, lambda x: x // 1073741823,
                   lambda x: x + 1073741823, lambda x: x - -1073741823, lambda x: x * 3,
                   lambda x: 1.0 / x, lambda x: x / 2.0, lambda x: x * 0.5, lambda x: 2.5 - x,
                   lambda x: x / 0.0, lambda x: x // 0, lambda x: x % 0, lambda x: x + True,
                   lambda x: x * 1073741824, lambda x: x - -0.0, lambda x: x + float("inf"),
                   lambda x: x < 3, lambda x: x >= 2.5, lambda x: 1 == x, lambda x: x != -0.0,
                   lambda x: x << 2, lambda x: 1 << x, lambda x: x & 6, lambda x: x ^ -1):
            try:
                row.append(repr(op(a)))
            except Exception as e:            # noqa: BLE001 - compared both ways
                row.append(type(e).__name__)
        out.append(row)
    return out


def powers():
    # the pow path takes a positive finite base and a finite exponent, and
    # only normal finite results; everything else is the helper's
    values = [2.0, 0.5, 1.0, 0.0, -0.0, -2.0, 1e308, 1e-308, 5e-324, float("inf"),
              float("-inf"), float("nan"), 3, 0, -1, 2, 10.0, -1.5, 1.5, 1000.0, 1e-300,
              True]
    out = []
    for a in values:
        for b in values:
            try:
                out.append(repr(a ** b))
            except Exception as e:            # noqa: BLE001 - compared both ways
                out.append((type(e).__name__, str(e)))
            acc = a
            try:
                acc **= b
                acc **= -0.5
            except Exception as e:            # noqa: BLE001 - compared both ways
                acc = (type(e).__name__, str(e))
            out.append(repr(acc))
    base = 1.5
    temps = (base * 2.0) ** 0.5 + base ** 2       # operands the stack alone holds
    return out, temps, base


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


def comparison_values_and_not():
    values = [1, 2.5, float("nan"), 2**40, -3, "s", None, True]
    out = []
    for a in values:
        for b in values:
            try:
                flags = (a < b, a <= b, a == b, a != b, a > b, a >= b)
            except TypeError as e:
                flags = str(e)
            out.append(flags)
    nots = [not x for x in (True, False, 0, 1, [], [1], None, "", 0.0)]
    return out, nots, [not (i < 3) for i in range(5)]


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


def method_guards():
    class Greeter:
        def hello(self):
            return "method"

    class Sub(Greeter):
        pass

    out = []
    g = Greeter()
    for i in range(9):
        out.append(g.hello())
        if i == 1:
            g.hello = lambda: "instance attribute shadows"
        if i == 2:
            del g.hello
        if i == 3:
            Greeter.hello = lambda self: "class method replaced"
        if i == 4:
            g.other = 1                    # a new shared key, not the name
        if i == 5:
            g = Sub()
        if i == 6:
            g.__dict__["hello"] = lambda: "via materialised dict"
    items = []
    for i in range(5):
        items.append(i)                    # a builtin type's method
        items.extend((i,)) if i % 2 else None
    s = Slotted(2)
    return out, items, [s.__repr__() == object.__repr__(s) for _ in range(3)]


def store_attr_guards():
    class Box:
        def __init__(self):
            self.value = 0

    b = Box()
    seen = []
    for i in range(8):
        b.value = i
        seen.append(b.value)
        if i == 2:
            del b.value
            b.extra = "x"
        if i == 4:
            Box.value = property(lambda self: "read-only property")
            try:
                b.value = 99
            except AttributeError as e:
                seen.append(str(e))
            del Box.value
    return seen, sorted(vars(b))


def enumerate_pairs():
    # FOR_ITER with the UNPACK_SEQUENCE 2 after it: an enumerate over a list
    # or tuple gives its pair with no tuple made; any other iterator, an
    # index at the edge of Py_ssize_t, or pairs of the wrong length go the
    # interpreter's way
    out = []
    grow = ["a"]
    for seq in ([1, 2, 3], (4, 5), [], "ab", iter([7, 8]), range(3), grow,
                {"k": 1}, ["x", "stop", "y"]):
        for start in (0, 5, -3, 2**62, 2**63 - 2, 2**63 - 1, 2**70):
            for j, x in enumerate(seq, start):
                out.append((j, x))
                if x == "stop":
                    break
                if seq is grow and len(grow) < 4:
                    grow.append(x * 2)      # the list grows while enumerated
    e = enumerate([1, 2, 3])
    for j, x in e:                          # the enumerate is still readable after
        out.append((j, x, list(e)))
    for pairs in ([(1, 2), (3, 4)], [[1, 2]], ((1, 2),), [(1, 2, 3)], [(1,)], [1],
                  enumerate([5, 6]), zip("ab", "cd")):
        try:
            for a, b in pairs:
                out.append((a, b))
        except (TypeError, ValueError) as exc:
            out.append(repr(exc))
    return out


def iteration_fast_paths():
    out = []
    for x in [1, 2, 3]:
        out.append(x)
    for x in (4, 5):
        out.append(x)
    for r in (range(5), range(10, 0, -3), range(-2**40, -2**40 + 3), range(2**63, 2**63 + 2),
              range(0)):
        out.append(list(x for x in r))
        for x in r:
            out.append(x)
    grow = [1]
    for x in grow:                          # the list grows while iterated
        if x < 5:
            grow.append(x + 1)
    it = iter([7, 8])
    for x in it:
        out.append(x)
    for x in it:                            # already exhausted
        out.append("never")
    return out, grow


class Bytes(bytes):
    def __getitem__(self, i):
        return ("Bytes", i)


def subscript_fast_paths():
    lst = [10, 20, 30]
    tup = (1, 2, 3)
    out = []
    for i in (0, 2, -1, -3, -4, 3, True, 2**40, -2**40):
        for seq in (lst, tup, "abc", {0: "zero", 2: "two", -1: "m", True: "t"},
                    b"\x00\x80\xff", bytearray(b"xyz"), Bytes(b"abc"), b"", []):
            try:
                out.append(seq[i])
            except (IndexError, KeyError) as e:
                out.append(repr(e))
    for i in range(3):
        lst[i] = lst[i] * 2
    for i in (3, -4):
        try:
            lst[i] = 0
        except IndexError as e:
            out.append(str(e))
    lst[-1] = "last"
    lst[-3] = "first"
    return out, lst


class Plain:
    pass


class EqualToAll:
    def __eq__(self, other):
        return ("eq", type(other).__name__)


class OnlyNe:
    def __ne__(self, other):
        return "ne"


class PlainChild(Plain):
    pass


def compares_of_objects_without_eq():
    import enum
    Colour = enum.Enum("Colour", "RED GREEN")
    a, b, c = Plain(), Plain(), PlainChild()
    pairs = [(a, a), (a, b), (a, c), (c, a), (Colour.RED, Colour.RED),
             (Colour.RED, Colour.GREEN), (a, EqualToAll()), (EqualToAll(), a),
             (a, OnlyNe()), (OnlyNe(), a), (a, 1), (1, a), (a, None), (len, len), (len, abs)]
    out = []
    for left, right in pairs:
        out.append((left == right, left != right))
        if left == right:
            out.append("branch ==")
        if left != right:
            out.append("branch !=")
    try:
        a < b
    except TypeError as e:
        out.append(str(e))
    return out


def unpacking_fast_paths():
    out = []
    for seq in [(1, 2), [3, 4], (5, 6, 7), "ab", range(2), [8], (9, 10, 11)]:
        try:
            a, b = seq
            out.append((a, b))
        except ValueError as e:
            out.append(str(e))
    t = (object(), [1])
    for _ in range(3):
        x, y = t
    return out, x is t[0], y is t[1]


def many_types_at_one_site():
    class Base:
        def __init__(self, k):
            self.k = k

        def kind(self):
            return "base"

    subclasses = [type("S%d" % i, (Base,), {}) for i in range(6)]
    subclasses[3].kind = lambda self: "overridden"
    objs = [cls(i) for i, cls in enumerate(subclasses)] * 4
    out = []
    for n, o in enumerate(objs):
        o.k = o.k + n                      # STORE_ATTR over six types
        out.append((o.kind(), o.k))        # LOAD_METHOD, LOAD_ATTR over six types
        if n == 10:
            subclasses[1].kind = lambda self: "patched later"
    return out


def slots_attributes():
    class P:
        __slots__ = ("x", "y")

        def __init__(self, x):
            self.x = x

    class Q(P):
        __slots__ = ("z",)

    out = []
    ps = [P(i) for i in range(3)] + [Q(7)]
    for p in ps * 2:
        out.append(p.x)
        p.x = p.x + 1
        try:
            out.append(p.y)                 # an unset slot
        except AttributeError as e:
            out.append(str(e))
        p.y = "set"
    del ps[0].x
    for _ in range(2):
        try:
            out.append(ps[0].x)
        except AttributeError as e:
            out.append(str(e))
        ps[0].x = "back"
    P.x = property(lambda self: "class property replaces the slot")
    out.append([p.x for p in ps])
    return out


def float_churn(trace):
    import tracemalloc
    if trace:
        tracemalloc.start()
    try:
        xs = [i * 0.5 for i in range(300)]      # more floats than the free list holds
        acc = 0.0
        for x in xs:
            acc += x * 1.5 - x / 3.0
        kept = [x + 1.0 for x in xs]
        return acc, sum(kept), [k is not x for k, x in zip(kept, xs)].count(False)
    finally:
        if trace:
            tracemalloc.stop()


def one_temporary_float_on_both_sides():
    import sys
    out = []
    for i in range(5):
        x = float(i) + 0.5
        y = x * x                       # one object as both operands
        out.append((y, sys.getrefcount(x)))
        del x
    return out


def int_results_and_the_small_int_cache():
    out = []
    for i in range(-10, 300, 7):
        j = i + 1 - 1
        out.append((j, j is i if -5 <= i <= 256 else None))
    return out, sum(range(1000)), [k * 3 for k in range(-6, 260, 37)]


def methods_and_attributes_of_objects_with_a_dict():
    import types

    class WithDict:
        def m(self):
            return "class method"

    ns = types.SimpleNamespace(a=1)         # a static type with a __dict__
    w = WithDict()
    w.__dict__["x"] = 1                     # its __dict__ is made
    out = []
    for i in range(6):
        out.append((ns.__repr__(), ns.a, w.m(), w.x))
        ns.a += 1
        w.x += 1
        if i == 2:
            ns.__repr__ = lambda: "shadowed"  # instance attributes shadow nothing
            w.m = lambda: "instance attribute shadows"
        if i == 3:
            del w.m
            w.y = "new key"
    return out


def globals_keyed_by_their_entries():
    # the cache points at a name's entry: rebinding does not invalidate it,
    # new keys (a resize moves entries) and a second globals dict for the
    # same code must not give a stale or foreign value
    global X
    g = globals()
    seen = []
    for i in range(40):
        X = i
        seen.append((X, len("abc"), abs(-i)))
        g["_filler_%d" % i] = i             # new keys, resizes on the way
    for i in range(40):
        del g["_filler_%d" % i]
    X = 1
    return seen


def _reads_name():
    return NAME_IN_TWO_DICTS  # noqa: F821


def same_code_with_two_globals_dicts():
    import types
    first = {"NAME_IN_TWO_DICTS": "first", "__builtins__": __builtins__}
    second = {"other": 0, "NAME_IN_TWO_DICTS": "second", "__builtins__": __builtins__}
    f1 = types.FunctionType(_reads_name.__code__, first)
    f2 = types.FunctionType(_reads_name.__code__, second)
    out = [(f1(), f2()) for _ in range(5)]
    del second["NAME_IN_TWO_DICTS"]
    try:
        f2()
    except NameError as e:
        out.append(str(e))
    out.append(f1())
    return out


def attributes_in_an_instance_dict():
    class Plain:
        def __init__(self, n):
            self.n = n

    split = [Plain(i) for i in range(4)]
    for p in split:
        p.__dict__                          # the dict is made (split)
    combined = [Plain(0) for _ in range(4)]
    for i, p in enumerate(combined):
        p.__dict__ = {"pad%d" % k: k for k in range(i)} | {"n": 10 + i}
    general = Plain(0)
    general.__dict__ = {1: "int key", "n": "general keys"}
    out = []
    for round_ in range(3):
        for p in split + combined + [general]:
            out.append(p.n)
        if round_ == 1:
            del combined[2].n
            try:
                combined[2].n
            except AttributeError as e:
                out.append(str(e))
            combined[2].n = "back"
            Plain.n = property(lambda self: "property wins")
    return out


def methods_of_instances_with_their_own_dict():
    # the method cache probes the instance __dict__ for the name: an
    # instance attribute of that name (under an equal but distinct str
    # too), deleted entries, and tables of every size must be seen
    class Owner:
        def method_name(self):
            return "from the class"

    plain, big, shadowed, equal_key, emptied = (Owner() for _ in range(5))
    for o in (plain, big, shadowed, equal_key, emptied):
        o.__dict__ = {"a": 1}               # a combined dict of its own
    big.__dict__.update(("k%d" % i, i) for i in range(300))
    emptied.__dict__.update(("k%d" % i, i) for i in range(6))
    for i in range(6):
        del emptied.__dict__["k%d" % i]     # dummies on the probe chains
    out = []
    for round_ in range(4):
        for o in (plain, big, shadowed, equal_key, emptied):
            out.append(o.method_name())
        if round_ == 1:
            shadowed.method_name = lambda: "instance attribute"
            equal_key.__dict__["".join(["method_", "name"])] = lambda: "equal key"
        if round_ == 2:
            del shadowed.method_name
    return out


def attributes_of_classes():
    # attributes read from a class object: cached under the class's version
    # when plain values or functions; descriptors, metaclass attributes and
    # changes anywhere in the MRO must be seen
    class Meta(type):
        @property
        def shadowed(cls):
            return "metaclass data descriptor"

    class Base:
        LIMIT = 1
        shadowed = "class value"

        def method(self):
            return "method"

        @classmethod
        def build(cls):
            return cls.__name__

        @staticmethod
        def helper():
            return "static"

    class Derived(Base):
        pass

    class WithMeta(metaclass=Meta):
        shadowed = "hidden by the metaclass"

    out = []
    for i in range(6):
        out.append((Base.LIMIT, Derived.LIMIT, Derived.method(Derived()), Derived.build(),
                    Derived.helper(), WithMeta.shadowed, Base.shadowed, Base.__name__))
        if i == 1:
            Base.LIMIT = 2                  # the base's version changes
        if i == 2:
            Derived.LIMIT = "own"
        if i == 3:
            del Derived.LIMIT
            Base.method = lambda self: "replaced"
    return out


def comprehension_appends():
    # LIST_APPEND in place while the list has room, reallocating otherwise,
    # with the list below other stack items in nested loops
    grid = [(x, y) for x in range(30) for y in range(x % 4) if y != 1]
    squares = [i * i for i in range(1000)]
    nested = [[j for j in range(i)] for i in range(20)]
    return len(grid), grid[:10], sum(squares), squares[-3:], nested[-1], [len(r) for r in nested]


def class_attribute_whose_type_gains_get():
    # a cached class attribute is guarded by its own type's version too:
    # giving that type a __get__ makes the class call it
    class Marker:
        pass

    class Owner:
        MARK = Marker()

    out = []
    for i in range(5):
        mark = Owner.MARK
        out.append(mark if isinstance(mark, str) else type(mark).__name__)
        if i == 2:
            Marker.__get__ = lambda self, obj, owner: "now a descriptor"
    return out


class ListSub(list):
    def __getitem__(self, i):
        return ("sub", i)


def subclasses_take_the_slow_path():
    ls = ListSub([1, 2])
    return [ls[i] for i in range(2)]


def new_attributes_keep_their_order():
    # first stores into fresh objects take the cached path, which must record
    # the insertion order the instance __dict__ iterates in
    class Point:
        def __init__(self, order, x, y):
            if order:
                self.y = y
                self.x = x
            else:
                self.x = x
                self.y = y
            self.tag = order

    class Slotted:
        __slots__ = ("a", "b")

        def __init__(self, a, b):
            self.b = b
            self.a = a

    points = [Point(i % 2, i, -i) for i in range(12)]
    for p in points[::3]:
        del p.x
        p.x = "again"
    slotted = [Slotted(i, i * 2) for i in range(6)]
    return ([list(vars(p).items()) for p in points],
            [(s.a, s.b) for s in slotted])


def bitwise_and_shifts():
    values = [0, 1, -1, 5, -6, 255, 256, -257, 2 ** 29, -(2 ** 29), 2 ** 30 - 1, -(2 ** 30 - 1),
              2 ** 30, 2 ** 40, -(2 ** 62), True, 3.0]
    counts = [0, 1, 5, 31, 32, 33, 40, 63, 64, 100, -1, -(2 ** 40), True]
    out = []
    for a in values:
        for b in values:
            for op in (lambda x, y: x & y, lambda x, y: x | y, lambda x, y: x ^ y):
                try:
                    out.append(op(a, b))
                except TypeError as e:
                    out.append(str(e))
        for n in counts:
            for op in (lambda x, y: x << y, lambda x, y: x >> y):
                try:
                    out.append(op(a, n))
                except (TypeError, ValueError, OverflowError) as e:
                    out.append(type(e).__name__)
        c = a
        try:
            c &= 0xFF
            c |= 0x100
            c ^= 3
            c <<= 2
            c >>= 1
        except TypeError as e:
            c = str(e)
        out.append(c)
    return out, [type(x).__name__ for x in out[:60]]


def cells(n):
    import sys
    obj = object()
    before = sys.getrefcount(obj)
    box = 0.5

    def put(v):
        nonlocal box
        box = v                 # STORE_DEREF: the old float goes back

    def get():
        return box              # LOAD_DEREF

    seen = []
    for i in range(n):
        put(obj)
        seen.append(get() is obj)
        put(i * 0.5)
        seen.append(get())
    put(None)

    def too_early():
        return later            # an empty cell: NameError from the helper

    try:
        too_early()
    except NameError as e:
        seen.append(str(e))
    later = 1
    return seen, sys.getrefcount(obj) - before, too_early()


class Index:
    def __init__(self, n):
        self.n = n

    def __index__(self):
        return self.n


class ListWithItsOwnSlices(list):
    def __getitem__(self, key):
        return ("own", key)


SLICE_BOUNDS = [None, 0, 3, -3, 7, 20, -20, 2**70, -(2**70), True, Index(2)]
SLICE_STEPS = [None, 1, 2, -1, -3, 2**70, -(2**70), 0, "x"]


def slices_taken():
    """x[a:b:c], fused with BUILD_SLICE into one helper with a list and
    tuple fast path: every kind of bound and step."""
    out = []
    base = list(range(10))
    tup = tuple(base)
    for a in SLICE_BOUNDS:
        for b in SLICE_BOUNDS:
            out.append((base[a:b], tup[a:b], "abcdefghij"[a:b]))
            for c in SLICE_STEPS:
                try:
                    out.append((base[a:b:c], tup[a:b:c]))
                except Exception as e:       # noqa: BLE001 - compared both ways
                    out.append((type(e).__name__, str(e)))
    return out


def slices_taken_generically():
    """What the fast path must leave to the generic one, and identities."""
    out = []
    base = list(range(10))
    tup = tuple(base)
    out.append((tup[:] is tup, tup[0:10] is tup, tup[5:2] is tuple(), base[:] is base))
    out.append(ListWithItsOwnSlices(base)[1:2])
    one = 1
    for container, bad in ((base, "a"), (base, 1.5), (one, None)):
        try:
            out.append(container[bad:2])
        except TypeError as e:
            out.append(str(e))
    return out


def slices_assigned():
    out = []
    for a in SLICE_BOUNDS:
        for b in SLICE_BOUNDS:
            target = list(range(6))
            target[a:b] = "xy"
            out.append(target)
            target = list(range(6))
            try:
                target[a:b:2] = "xyz"
            except ValueError as e:
                out.append(str(e))
            out.append(target)
    target = [1, 2, 3]
    target[:] = target
    target[1:1] = target
    out.append(target)
    sub = ListWithItsOwnSlices([1, 2])
    sub[0:1] = [9]
    out.append(list(sub))
    for container, value in ((tuple(target), (5,)), (target, 5)):
        try:
            container[0:1] = value
        except TypeError as e:
            out.append(str(e))
    return out


def slice_errors_are_reported_at_the_subscript(seq):
    return (seq
            [1:
             2])


class Noisy:
    """An item whose == is seen: the helper must compare it once, in order."""
    def __init__(self, log, equal):
        self.log, self.equal = log, equal

    def __eq__(self, other):
        self.log.append(("eq", other))
        return self.equal


class IntList(list):
    def __contains__(self, item):
        return "subclass"


def membership_in_lists_of_ints():
    # `x in list`: one-digit ints compared inline (identity, then value);
    # anything else the helper's, from the first item
    log = []
    big = 2 ** 40
    lists = [[], [1, 2, 3], [-3, 0, 5], [0], [big, 7], [2 ** 30, -(2 ** 30)], [1.0, 2],
             [True, 2], ["a", 3], [3, Noisy(log, False), 4], [Noisy(log, True)],
             IntList([1, 2]), (1, 2), [int("300"), int("-300")], [float("nan")]]
    needles = [0, 1, 3, -3, 7, 300, -300, 2 ** 30 - 1, big, True, 1.0, "a", None]
    out = []
    for i in range(3):
        for container in lists:
            for x in needles:
                try:
                    out.append((x in container, x not in container))
                except TypeError as e:
                    out.append(str(e))
                if x in container:          # fused with the jump
                    out.append(1)
                if x not in container:
                    out.append(0)
        for bad in (5, None):
            try:
                out.append(3 in bad)
            except TypeError as e:
                out.append(str(e))
    return out, log


class FloatChild(float):
    pass


# Each of math's functions called by name, as a global or as math's
# attribute (what math_function_call serves).
MATH_CALLS = (lambda x: sqrt(x), lambda x: sin(x), lambda x: cos(x), lambda x: tan(x),
              lambda x: exp(x), lambda x: log(x), lambda x: math.sqrt(x), lambda x: math.log(x))


def math_functions_of_every_argument():
    """math's functions computed by the C library directly (in their
    domains) and by the call (outside them: domain and overflow errors,
    NaN, infinities; other argument types)."""
    out = []
    values = [0.0, -0.0, 0.5, 2.0, -2.0, 3, 0, -3, 2**30 - 1, 2**30, 10**20, 1e308, -1e308, 699.5,
              700.0, 700.5, -700.5, 5e-324, float("inf"), float("-inf"), float("nan"), True,
              FloatChild(2.25), "x"]
    for x in values:
        for call in MATH_CALLS:
            try:
                out.append(repr(call(x)))
            except (ValueError, OverflowError, TypeError) as e:
                out.append("%s: %s" % (type(e).__name__, e))
    return out


def math_functions_on_many_values(seed):
    """Every function on values spread over its domain (magnitudes from
    1e-300 to 1e300, and the bounds of exp's range): the same bits as
    math's (the same C functions, at the same symbol versions)."""
    import random
    rng = random.Random(seed)
    out = []
    for _ in range(400):
        x = rng.uniform(-1.0, 1.0) * 10.0 ** rng.uniform(-300, 300)
        y = rng.uniform(-700.0, 700.0)
        out.append((sin(x), cos(x), tan(x), sqrt(abs(x)), log(abs(x)), exp(y), sin(y), log(y + 700.5)))
    return out


def math_function_results_unboxed_and_not(n):
    """A result taken as a double by the arithmetic after it, stored,
    returned in a list, compared; an argument computed unboxed (a float,
    an int, either: compiled before feedback, `i * i + 1` may be both)."""
    total, kept = 0.0, []
    for i in range(n):
        x = i * 0.25
        total += sqrt(x * x + 1.0) * 2 + sin(i) + sqrt(i * i + 1) + cos(i - 3)
        kept.append(sqrt(x))
        if sin(x) > 0.5:
            total -= 1
    return total, kept


def math_names_bound_to_other_things(n):
    """The name a math function was called by, rebound: the call made."""
    global sqrt
    out = []
    for i in range(n):
        if i == n // 2:
            sqrt = lambda x: ("not math's", x)     # noqa: E731
        out.append(sqrt(float(i)))
        holder = type("Holder", (), {"sqrt": staticmethod(abs)})
        out.append(holder.sqrt(-float(i)))
        out.append(math.sqrt(i))
    sqrt = math.sqrt
    return out


class Index:
    """An int only by __index__: range takes it, its direct iterator not."""
    def __init__(self, n):
        self.n = n

    def __index__(self):
        return self.n


# (start, stop, step) for range's three forms: what iterator_call makes at
# once (ints of up to two digits, any signs) and what it leaves to the call
# (more digits, a bool, __index__, a float or a str: TypeError; a zero step:
# ValueError)
RANGE_BOUNDS = [(5, 9, 1), (0, 0, 2), (-3, 4, -1), (9, 2, -2), (1, 10, 3), (10, 1, -3),
                (-7, 7, 5), (5, 5, 1), (2 ** 60 - 9, 2 ** 60 - 1, 2 ** 58), (2 ** 59, -2 ** 59, -2 ** 58),
                (2 ** 61, 2 ** 61 + 3, 1), (-2 ** 100, -2 ** 100 + 2, 1), (True, 3, True),
                (Index(2), Index(6), Index(2)), (1, 4, 0), (1.5, 2, 1), (1, "a", 1)]


def ranges_iterated():
    """for loops and comprehensions over range(...) of one, two and three
    arguments, each of RANGE_BOUNDS; errors raised at the range call."""
    out = []
    for a, b, c in RANGE_BOUNDS:
        try:
            for x in range(b):
                out.append(x)
                if len(out) % 7 == 0:
                    break                   # the iterator left behind
            out.append([x * 2 for x in range(a, b)])
            out.append(sum(x for x in range(a, b, c)))
            for x in range(a, b, c):
                out.append(x)
            r = range(a, b, c)
            out.append([x for x in reversed(r)])
            for x in reversed(r):
                out.append(x)
            rest = reversed(r)              # (what __reduce__ sees: its start, even
            out.append(rest.__reduce__())   # where r is empty)
        except (TypeError, ValueError) as e:
            out.append("%s: %s" % (type(e).__name__, e))
    for other in ([1, 2, 3], "abc", (4, 5), {6: 7}, 8):     # reversed of other things
        try:
            for x in reversed(other):
                out.append(x)
        except TypeError as e:
            out.append("%s: %s" % (type(e).__name__, e))
    return out


def range_errors_in_tracebacks(stop):
    total = 0
    for i in range(3):
        for x in range(i, stop):        # TypeError at this line, the third time
            total += x
        stop = "x" if i == 1 else stop
    return total


def range_in_generators(n):
    """Range iterators held by suspended frames (a generator's, a
    generator expression's)."""
    def squares(n):
        for x in range(1, n, 2):
            yield x * x
    return list(squares(n)), list(x + 1 for x in range(n)), [list(range(k)) for k in range(4)]


def range_shadowed(n):
    """range, a builtin, shadowed by a global halfway: the call is made."""
    global range
    out = []
    try:
        for i in [0, 1, 2, 3]:
            if i == 2:
                range = lambda *args: iter([("shadowed", args)])    # noqa: E731
            for x in range(i, n):
                out.append(x)
    finally:
        del range
    return out


class OwnIterator:
    def __init__(self):
        self.left = 3

    def __iter__(self):
        return self

    def __next__(self):
        self.left -= 1
        if self.left < 0:
            raise StopIteration
        return self.left


class NotAnIterator:
    def __iter__(self):
        return [1, 2]


def iterators_iterated():
    """GET_ITER of objects that are their own iterators (nothing to do)
    and of anything else (the helper); a loop taking an iterator twice."""
    out = []
    gen = (x * 3 for x in [1, 2, 3])
    for x in gen:
        out.append(x)
    for x in gen:
        out.append("never")
    for pair in zip("ab", [1, 2]):
        out.append(pair)
    for x in map(abs, [-1, -2]):
        out.append(x)
    for i, x in enumerate("xy"):
        out.append((i, x))
    for x in OwnIterator():
        out.append(x)
    it = iter(range(4))
    for x in it:
        out.append(x)
        if x == 1:
            break
    for x in it:
        out.append(x)
    for bad in (NotAnIterator(), 5, None):
        try:
            for x in bad:
                out.append(x)
        except TypeError as e:
            out.append(str(e))
    return out


CASES = [
    (ranges_iterated, ()),
    (range_errors_in_tracebacks, (5,)),
    (range_in_generators, (9,)),
    (range_shadowed, (4,)),
    (iterators_iterated, ()),
    (math_functions_of_every_argument, ()),
    (math_function_results_unboxed_and_not, (40,)),
    (math_functions_on_many_values, (1,)),
    (math_functions_on_many_values, (2,)),
    (math_names_bound_to_other_things, (10,)),
    (constant_operands, ()),
    (slices_taken, ()),
    (slices_taken_generically, ()),
    (slices_assigned, ()),
    (slice_errors_are_reported_at_the_subscript, (5,)),
    (slice_errors_are_reported_at_the_subscript, ([1, 2, 3],)),
    (bitwise_and_shifts, ()),
    (cells, (6,)),
    (new_attributes_keep_their_order, ()),
    (arithmetic_mixes, ()),
    (float_results_do_not_alias, ()),
    (powers, ()),
    (comparisons_and_branches, ()),
    (comparison_values_and_not, ()),
    (rich_compare_fallbacks, (0,)),
    (rich_compare_fallbacks, (1,)),
    (bad_operands, ()),
    (globals_change_between_reads, ()),
    (builtin_shadowed_by_global, ()),
    (globals_keyed_by_their_entries, ()),
    (same_code_with_two_globals_dicts, ()),
    (attributes_in_an_instance_dict, ()),
    (methods_of_instances_with_their_own_dict, ()),
    (attributes_of_classes, ()),
    (class_attribute_whose_type_gains_get, ()),
    (comprehension_appends, ()),
    (attribute_guards, ()),
    (polymorphic_attribute_site, ()),
    (missing_attribute_after_hits, ()),
    (method_guards, ()),
    (store_attr_guards, ()),
    (iteration_fast_paths, ()),
    (enumerate_pairs, ()),
    (subscript_fast_paths, ()),
    (compares_of_objects_without_eq, ()),
    (subclasses_take_the_slow_path, ()),
    (unpacking_fast_paths, ()),
    (many_types_at_one_site, ()),
    (slots_attributes, ()),
    (methods_and_attributes_of_objects_with_a_dict, ()),
    (float_churn, (False,)),
    (float_churn, (True,)),
    (int_results_and_the_small_int_cache, ()),
    (one_temporary_float_on_both_sides, ()),
    (membership_in_lists_of_ints, ()),
]


def test_private_layouts_match_this_interpreter():
    # the iterator fast paths mirror private structs; were a size to differ,
    # every FOR_ITER would quietly take the helper
    from pyjion_clr import _native
    assert _native.target_description()["inline_iterators"]


def test_enumerate_pairs_release_their_items():
    import sys
    from harness import run_compiled

    def pairs(items):
        n = 0
        for j, x in enumerate(items):
            n += j
        return n

    value = object()
    items = [value] * 50
    run_compiled(pairs, items)
    before = sys.getrefcount(value)
    run_compiled(pairs, items)
    assert sys.getrefcount(value) == before


def test_slices_release_what_they_take():
    import sys
    from harness import run_compiled

    def churn(n, items, value):
        for _ in range(n):
            items[1:2] = [value]
            items[0:3:2]
            items[0:1]
            tuple(items)[0:2]
            items[value:1] if False else None

    value = object()
    items = [value, value, value]
    run_compiled(churn, 10, items, value)
    before = sys.getrefcount(value)
    run_compiled(churn, 100, items, value)
    assert sys.getrefcount(value) == before


def test_float_and_int_fast_paths_leak_nothing():
    import sys
    from harness import fresh_copy, run_compiled
    f = fresh_copy(float_churn)
    run_compiled(f, False)
    before = sys.getallocatedblocks()
    for _ in range(20):
        run_compiled(f, False)
    assert sys.getallocatedblocks() - before < 50


def test_math_functions_called_directly():
    """Calls of math's functions (sqrt, sin, ...) by either name are given
    the direct path; it releases what it takes."""
    import sys
    from harness import fresh_copy, run_compiled, translated
    names = [name for call in MATH_CALLS for _, name in translated(call)[0].replaced_calls]
    assert names == ["sqrt", "sin", "cos", "tan", "exp", "log", "sqrt", "log"]
    names = [name for _, name in translated(math_function_results_unboxed_and_not)[0].replaced_calls]
    assert names == ["range", "sqrt", "sin", "sqrt", "cos", "sqrt", "sin"]

    def churn(n, value):
        out = 0.0
        for _ in range(n):
            out += sqrt(value)
        return out

    value = 2.0 ** 0.5 * 3
    f = fresh_copy(churn)
    run_compiled(f, 5, value)
    before = sys.getrefcount(value)
    assert run_compiled(f, 100, value).value == churn(100, value)
    assert sys.getrefcount(value) == before


def test_range_iterators_made_directly():
    """range(...) and reversed(range(...)) for a loop or a comprehension get
    the fast path; the iterator it makes holds no reference to the bounds,
    which it releases."""
    import sys
    from harness import fresh_copy, run_compiled, translated
    names = [name for _, name in translated(ranges_iterated)[0].replaced_calls]
    assert names == ["range"] * 4 + ["reversed"] * 3
    assert translated(range_shadowed)[0].replaced_calls    # guarded, not skipped

    def churn(n, low, high):
        total = 0
        for _ in range(n):
            for x in range(low, high):
                total += 1
            for x in reversed(range(low, high)):
                total += 1
        return total

    low = 2 ** 40 + 1                       # two digits: not a cached int
    high = low + 3
    f = fresh_copy(churn)
    run_compiled(f, 5, low, high)
    before = sys.getrefcount(low), sys.getrefcount(high)
    assert run_compiled(f, 100, low, high).value == 600
    assert (sys.getrefcount(low), sys.getrefcount(high)) == before


@pytest.mark.parametrize("fn,args", CASES, ids=["%s%r" % (f.__name__, a) for f, a in CASES])
def test_fast_path(fn, args):
    differential(fn, *args)

