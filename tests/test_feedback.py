"""Type feedback: code the interpreter has specialised is compiled with only
the fast paths for what each site saw there -- but for arithmetic and
compares on numbers, where the specialised form says only what a site saw
last.  The guards stay, so operands of other kinds must still give the
interpreter's results."""

import dis
import io
import math
import re
import sys

import pytest

import pyjion_clr
from harness import (differential, fresh_copy, il_instructions, run_compiled, run_interpreted, translated,
                     warmed_copy)



class Holder:
    def __init__(self, value):
        self.value = value

    def scale(self, k):
        return self.value * k


class Slotted:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def scale(self, k):
        return ("slotted", k)


def sites(a, b, obj, seq):
    total = a * b + a - b
    if a < b:
        total = total + 1
    first, second = seq
    return total, obj.value, obj.scale(a), seq[1], first, second


def specialised_names(code):
    adaptive = code._co_code_adaptive
    return {dis._all_opname[adaptive[i]] for i in range(0, len(adaptive), 2)}


def assert_runs_as_interpreted(warm, original, run):
    """run(fn) gives the same with the compiled `warm` as with a copy of
    `original` in the interpreter, and `warm` stayed compiled."""
    pyjion_clr.disable()
    expected = run(original)
    pyjion_clr.enable()
    assert run(warm) == expected
    assert pyjion_clr.info(warm).compiled


def call_with_builtin_shadowed(name, call):
    """call() while builtins.<name> is rebound to a stand-in."""
    import builtins
    real = getattr(builtins, name)
    setattr(builtins, name, lambda x: "shadowed")
    try:
        return call()
    finally:
        setattr(builtins, name, real)


FLOATS = (1.5, 2.25, Holder(3.0), (1.0, 2.0))


def shaped_sites(obj, seq):
    first, second = seq
    return obj.value, obj.scale(first), seq[1], second


def test_specialised_code_compiles_smaller():
    warm = warmed_copy(shaped_sites, *FLOATS[2:])
    # the interpreter did specialise the sites (else this test proves nothing)
    assert {"LOAD_ATTR_INSTANCE_VALUE", "LOAD_METHOD_WITH_VALUES", "BINARY_SUBSCR_TUPLE_INT",
            "UNPACK_SEQUENCE_TWO_TUPLE"} <= specialised_names(warm.__code__)
    cold = fresh_copy(shaped_sites)
    run_compiled(cold, *FLOATS[2:])
    assert pyjion_clr.info(warm).il_bytes < pyjion_clr.info(cold).il_bytes


@pytest.mark.parametrize("args", [
    (3, 4, Holder(2), [5, 6]),                      # ints where floats were seen
    ("ab", "cd", Holder("x"), "yz"),                # strs: the generic paths
    (2.5, 1, Slotted(7), (1, 2)),                   # mixed, and another type
    (1.0, 2.0, Holder(1.0), [1.0]),                 # unpacking fails
    (1.0, None, Holder(1.0), (1, 2)),               # an operator raises
])
def test_other_operands_take_the_generic_paths(args):
    warm = warmed_copy(sites, *FLOATS)
    expected = run_interpreted(sites, *args).describe()
    pyjion_clr.enable()
    try:
        got = warm(*args)
        outcome = ("value", got, repr(got))
    except Exception as exc:
        outcome = ("raised", type(exc), str(exc))
    assert outcome == expected[:len(outcome)]
    assert pyjion_clr.info(warm).compiled


def module_sites(mod, x):
    return mod.scale * x, mod.twice(x)


def _module(name):
    import types
    mod = types.ModuleType(name)
    mod.scale = 3
    mod.twice = lambda v: 2 * v
    return mod


def test_module_attributes_follow_the_module():
    import types
    mod = _module("fed")
    warm = warmed_copy(module_sites, mod, 1)
    assert {"LOAD_ATTR_MODULE", "LOAD_METHOD_MODULE"} <= specialised_names(warm.__code__)
    other = _module("other")
    other.scale = "s"

    class Sub(types.ModuleType):
        scale = property(lambda self: "from the subclass")

        def twice(self, v):
            return ("method", v)

    sub = Sub("sub")
    missing = types.ModuleType("missing")
    lazy = types.ModuleType("lazy")
    lazy.__getattr__ = lambda name: (lambda v: name) if name == "twice" else 5

    def run(fn):
        out = []
        for m in (mod, other, sub, lazy, mod):
            out.append(_outcome(fn, m, 2))
        mod.scale = 10                              # rebinding: read again
        del mod.twice
        out.append(_outcome(fn, mod, 2))            # AttributeError
        mod.twice = abs
        for i in range(20):                         # resizes the module dict
            setattr(mod, "filler%d" % i, i)
        out.append(_outcome(fn, mod, -2))
        out.append(_outcome(fn, missing, 2))
        mod.scale, mod.twice = 3, (lambda v: 2 * v)
        for i in range(20):
            delattr(mod, "filler%d" % i)
        return out

    assert_runs_as_interpreted(warm, module_sites, run)


def _outcome(fn, *args):
    try:
        return ("value", fn(*args))
    except Exception as exc:
        return ("raised", type(exc), str(exc))


def mixed_sites(a, b):
    return a + b, a - b, a * b, a / b


@pytest.mark.parametrize("args", [
    (1.5, 2), (2, 1.5), (3, 4), (2.5, 0.5), (-7, 2.0),
    (2.0, 0), (1, 0), (0, 0.0),                     # division by zero, both ways
    (2 ** 40, 1.5), (1.5, -2 ** 40), (True, 1.5),   # no one-digit int: generic
    ("a", "b"), (1.5, None),
])
def test_a_site_the_interpreter_gave_up_on(args):
    warm = warmed_copy(mixed_sites, 1.5, 2)         # a float with an int
    names = specialised_names(warm.__code__)
    assert "BINARY_OP_ADAPTIVE" in names and "BINARY_OP_ADD_FLOAT" not in names
    listing = io.StringIO()
    pyjion_clr.dis(warm, file=listing)
    assert "ldind.r8" in listing.getvalue()          # mixed operands inline
    pyjion_clr.disable()
    expected = _outcome(fresh_copy(mixed_sites), *args)
    pyjion_clr.enable()
    assert _outcome(warm, *args) == expected


def ints_seen_first(a, b):
    return a * b - a


@pytest.mark.parametrize("args", [
    (3, 4), (2.5, 4), (2.5, 0.5), (3, 0.5),         # as seen; then floats, mixed
    (2 ** 40, 2.0), (True, 1.5), ("ab", 2), (1.5, None),
])
def test_sites_specialised_for_ints_keep_their_float_paths(args):
    # Vector(0, 0, 1).z * 2.5: the interpreter specialises for what a site
    # saw last; later operands of the other kind stay inline
    warm = warmed_copy(ints_seen_first, 3, 4)
    assert {"BINARY_OP_MULTIPLY_INT", "BINARY_OP_SUBTRACT_INT"} <= specialised_names(warm.__code__)
    listing = io.StringIO()
    pyjion_clr.dis(warm, file=listing)
    assert "ldind.r8" in listing.getvalue()          # a float's value read inline
    translator, _ = translated(warm)
    # a * b stays an int64 for the -, with no tag for a float
    assert {kind for _, kind in translator.unboxed_locals} == {"int"}
    pyjion_clr.disable()
    expected = _outcome(fresh_copy(ints_seen_first), *args)
    pyjion_clr.enable()
    counted = [a for a in args if a is not None]
    before = [sys.getrefcount(a) for a in counted]
    assert repr(_outcome(warm, *args)) == repr(expected)
    assert [sys.getrefcount(a) for a in counted] == before
    assert pyjion_clr.info(warm).compiled


# A float result that the next BINARY_OP or COMPARE_OP takes stays a
# double (no float made) where the interpreter saw floats there; every
# other operand, and any failure with such a double waiting on the stack,
# must still come out as in the interpreter.
class Real(float):
    def __mul__(self, other):
        return ("Real", float(self) * other)


def float_chains(x, y, z):
    norm = (x * x + y * y + z * z) ** 0.5
    mixed = x * y - z / (x + 1.5)
    ordered = x * y < z * z - 1.0
    negated = -(x * y) + 0.5                # UNARY_NEGATIVE takes it boxed
    root = (x - y) ** 0.5                   # complex for x < y: the helper
    waiting = x * y + (z + 1)               # z + 1: perhaps a TypeError
    return norm, mixed, ordered, negated, root, waiting, x * y / (z - 1.0)


@pytest.mark.parametrize("args", [
    (3.0, 2.0, 0.5), (-1.5, 2.5, 3.0),              # floats, as seen; complex root
    (3.0, 2.0, 1.0),                                # ZeroDivisionError, x * y waiting
    (3.0, 2.0, None),                               # TypeError, x * y waiting
    (3, 2, 5), (3.0, 2, 0.5), (2 ** 70, 1.5, 0.5),  # ints: the generic paths
    (float("inf"), float("nan"), -0.0), (1e308, 1e308, 1e-308),
    (Real(3.0), 2.0, 0.5),                          # a subclass: its __mul__
    ("ab", 2, 0.5),
])
def test_float_results_stay_unboxed_for_their_reader(args):
    warm = warmed_copy(float_chains, 3.0, 2.0, 0.5)
    assert "BINARY_OP_MULTIPLY_FLOAT" in specialised_names(warm.__code__)
    translator, _ = translated(warm)
    assert "float" in {kind for _, kind in translator.unboxed_locals}
    pyjion_clr.disable()
    expected = _outcome(fresh_copy(float_chains), *args)
    pyjion_clr.enable()
    counted = [a for a in args if a is not None]     # None's count moves with anything
    before = [sys.getrefcount(a) for a in counted]
    assert repr(_outcome(warm, *args)) == repr(expected)
    assert [sys.getrefcount(a) for a in counted] == before
    assert pyjion_clr.info(warm).compiled


def appender(target, x):
    target.append(x)        # specialised only when the result is dropped
    return len(target)


class LoudList(list):
    def append(self, x):
        super().append(("loud", x))


def test_list_append_seen_by_the_interpreter():
    warm = warmed_copy(appender, [], 0)
    assert "PRECALL_NO_KW_LIST_APPEND" in specialised_names(warm.__code__)

    def run(fn):
        out = []
        grown = []
        for i in range(40):                     # past several reallocations
            out.append(fn(grown, i))
        out.append(grown)
        loud = LoudList()
        out.append((fn(loud, 1), loud))
        out.append(_outcome(fn, (), 1))         # no append: AttributeError
        out.append(_outcome(fn, [], ))          # missing argument
        shared = []
        alias = shared
        fn(shared, "x")
        out.append(alias)
        return out

    assert_runs_as_interpreted(warm, fresh_copy(appender), run)


def type_of(x):
    return type(x)


def test_type_of_seen_by_the_interpreter():
    warm = warmed_copy(type_of, 1)
    assert "PRECALL_NO_KW_TYPE_1" in specialised_names(warm.__code__)

    def run(fn):
        out = [fn(1), fn("s"), fn(Holder(1)), fn(type), fn(None), _outcome(fn)]
        out.append(call_with_builtin_shadowed("type", lambda: fn(1)))
        out.append(fn(2.5))
        return out

    assert_runs_as_interpreted(warm, fresh_copy(type_of), run)


def length(x):
    return len(x)


class Sized:
    def __len__(self):
        return 7


class ListSubclass(list):
    def __len__(self):
        return 99


def test_len_seen_by_the_interpreter():
    warm = warmed_copy(length, [1, 2])
    assert "PRECALL_NO_KW_LEN" in specialised_names(warm.__code__)
    big = list(range(300))

    def run(fn):
        out = [fn([]), fn([1, 2, 3]), fn(big), fn(()), fn((1,)), fn({}), fn({1: 2, 3: 4}),
               fn("text"), fn(Sized()), fn(ListSubclass([1])), _outcome(fn, 5), _outcome(fn)]
        d = {i: i for i in range(10)}
        for i in range(5):
            del d[i]                        # used entries, not slots
        out.append(fn(d))
        out.append(call_with_builtin_shadowed("len", lambda: fn([1])))
        return out

    assert_runs_as_interpreted(warm, fresh_copy(length), run)


def instance_test(x, cls):
    return isinstance(x, cls)


class SubHolder(Holder):
    pass


class Picky(type):
    def __instancecheck__(cls, instance):
        return False


class Fussy(metaclass=Picky):
    pass


class SubFussy(Fussy):
    pass


class Disguised:
    __class__ = property(lambda self: Holder)


def test_isinstance_seen_by_the_interpreter():
    import collections.abc
    import numbers
    warm = warmed_copy(instance_test, Holder(1), Holder)
    assert "PRECALL_NO_KW_ISINSTANCE" in specialised_names(warm.__code__)

    def run(fn):
        out = [fn(Holder(1), Holder), fn(SubHolder(1), Holder), fn(1, Holder), fn(True, int),
               fn(1, (str, int)), fn([], collections.abc.Sequence), fn(2.5, numbers.Number),
               fn(Fussy(), Fussy), fn(SubFussy(), Fussy), fn(Disguised(), Holder),
               fn(Holder, type), _outcome(fn, 1, 5), _outcome(fn, 1)]
        out.append(call_with_builtin_shadowed("isinstance", lambda: _outcome(fn, 1, int)))
        return out

    assert_runs_as_interpreted(warm, fresh_copy(instance_test), run)
    # True answered inline: the call is a cold path, and the method needs
    # no P/Invoke frame
    from harness import listing
    assert "thunk" in listing(warm)


def c_calls(x, d, s, seq):
    return (abs(x),                     # a METH_O builtin
            math.sqrt(x),               # a module's METH_O function
            isinstance(x, float),       # METH_FASTCALL
            min(x, 2.0),                # METH_FASTCALL | METH_KEYWORDS
            d.get("k", 5),              # method descriptors: METH_FASTCALL,
            s.upper(),                  # METH_NOARGS,
            seq.count(3),               # METH_O,
            sorted(seq, reverse=True),  # (with keywords: the generic call)
            "-".join(seq_strings(seq)))


def seq_strings(seq):
    return [str(v) for v in seq]


class CountingDict(dict):
    def get(self, key, default=None):
        return ("subclass", key, default)


def test_c_functions_called_directly():
    """Calls the interpreter specialised to a C function are made from
    compiled code as the specialised PRECALLs make them; guards send other
    callables and receivers to the generic call, errors unwind as there."""
    warm = warmed_copy(c_calls, 4.0, {"k": 1}, "abc", [3, 1, 3])
    seen = specialised_names(warm.__code__)
    for form in ("NO_KW_BUILTIN_O", "NO_KW_ISINSTANCE", "BUILTIN_FAST_WITH_KEYWORDS",
                 "NO_KW_METHOD_DESCRIPTOR_FAST", "NO_KW_METHOD_DESCRIPTOR_NOARGS",
                 "NO_KW_METHOD_DESCRIPTOR_O"):
        assert "PRECALL_" + form in seen

    def run(fn):
        out = [fn(4.0, {"k": 1}, "abc", [3, 1, 3]), fn(9, {}, "xyz", (3, 3)),
               fn(2.25, CountingDict(), "q", [])]
        out.append(_outcome(fn, -1.0, {}, "q", []))         # math domain error
        out.append(_outcome(fn, "s", {}, "q", []))          # abs() of a str
        out.append(_outcome(fn, 1.0, {}, 5, []))            # int has no upper
        out.append(_outcome(fn, 1.0, {}, "q", None))        # None has no count
        out.append(call_with_builtin_shadowed("abs", lambda: fn(4.0, {}, "q", [])))
        return out

    assert_runs_as_interpreted(warm, fresh_copy(c_calls), run)


def test_c_function_calls_release_their_arguments():
    warm = warmed_copy(c_calls, 4.0, {"k": 1}, "abc", [3, 1, 3])
    key, seq = object(), [3, 1, 3]
    d = {key: 1}
    d_refs, seq_refs = sys.getrefcount(d), sys.getrefcount(seq)
    for _ in range(5):
        warm(16.0, d, "abc", seq)
        _outcome(warm, -1.0, d, "abc", seq)
    assert (sys.getrefcount(d), sys.getrefcount(seq)) == (d_refs, seq_refs)


def class_calls(i, seq, maker):
    """Calls of builtin classes (their own vectorcall: PRECALL_BUILTIN_CLASS)
    and of whatever `maker` is at a site the interpreter specialised so."""
    return (list(seq), tuple(seq), set(seq) == set(seq), dict(a=i) if i else dict(),
            int(str(i)), float(i), str(i), bool(i), frozenset(seq), maker(seq),
            sorted(reversed(seq)))


def class_calls_in_a_loop(n, seq, maker=list):
    out = []
    for i in range(n):
        out.append((list(seq), set(seq), frozenset(seq), int(i), reversed(seq), maker(seq)))
    return [(a, b, c, d, list(e), f) for a, b, c, d, e, f in out]


class ListChild(list):
    pass


class Boxed:
    def __init__(self, seq):
        self.seq = list(seq)

    def __eq__(self, other):
        return type(other) is type(self) and other.seq == self.seq

    def __repr__(self):
        return "%s(%r)" % (type(self).__name__, self.seq)


class Meta(type):
    pass


BoxedOfMeta = Meta("BoxedOfMeta", (Boxed,), {})


def test_builtin_classes_called_directly():
    """Calls of builtin classes go through the class's vectorcall, as the
    interpreter's PRECALL_BUILTIN_CLASS makes them, whether the interpreter
    specialised the site (warm code) or the name is a builtin class's (code
    compiled at its first call); other callables -- a subclass, a Python
    class, a class of another metaclass, a function, a rebound name -- take
    the generic call; errors unwind as the interpreter's."""
    warm = warmed_copy(class_calls, 2, [3, 1], list)
    assert "PRECALL_BUILTIN_CLASS" in specialised_names(warm.__code__)
    # without feedback: only in loops (elsewhere such code runs once a call)
    def class_sites(fn):
        return [i for i, convs in translated(fn)[0].direct_c_calls if convs == (None,)]
    assert not class_sites(class_calls)
    # list, set, frozenset, reversed: not int (no vectorcall in 3.11) nor
    # the local `maker` (they get the C function conventions of unseen calls)
    assert len(class_sites(class_calls_in_a_loop)) == 4

    def run(fn):
        out = [fn(i, [3, 1, 2], maker) for i in range(3)
               for maker in (list, tuple, ListChild, Boxed, BoxedOfMeta, sorted, lambda s: s)]
        out.append(_outcome(fn, 2, [1, [2]], list))         # unhashable in set()
        out.append(_outcome(fn, 2, 5, list))                # int is not iterable
        out.append(_outcome(fn, 2, [1], int))               # int() of a list
        out.append(call_with_builtin_shadowed("tuple", lambda: fn(2, [1], list)))
        out.append(_outcome(fn, 2, [1], lambda s: 1 / 0))
        return out

    assert_runs_as_interpreted(warm, fresh_copy(class_calls), run)
    for maker in (list, ListChild, Boxed, BoxedOfMeta, sorted):
        differential(class_calls_in_a_loop, 3, [2, 1], maker)
    differential(class_calls_in_a_loop, 2, [[1], 2], list)     # unhashable
    differential(class_calls_in_a_loop, 2, 7, list)             # not iterable


def test_builtin_class_calls_release_their_arguments():
    warm = warmed_copy(class_calls, 2, [3, 1], list)
    item = 2 ** 70
    seq = [item, item]
    before = sys.getrefcount(item), sys.getrefcount(seq)
    for _ in range(3):
        warm(3, seq, tuple)
        _outcome(warm, 2, seq, int)
    assert (sys.getrefcount(item), sys.getrefcount(seq)) == before


def unseen_c_calls(seq, n, make):
    """Calls in a loop whose callables only the running code knows: bound
    methods of builtins kept in locals (list.insert, list.pop: FASTCALL;
    list.sort: FASTCALL | KEYWORDS), a module's functions (math.floor: O;
    a Random's random: NOARGS), and whatever `make` gives (a Python
    function, a class, a METH_VARARGS builtin: the generic call)."""
    import math
    lst = list(seq)
    ins, pop, srt, floor = lst.insert, lst.pop, lst.sort, math.floor
    rnd = __import__("random").Random(5).random
    other = make
    out = []
    for i in range(n):
        ins(i % 3, pop(0))
        srt()
        out.append((floor(lst[0] / 2), rnd() < 2.0, other(lst[0], i)))
    return lst, out, pop()


def unseen_c_call_outside_loops(seq):
    pop = seq.pop
    return pop()


def test_c_functions_called_directly_without_feedback():
    """Code compiled at its first call has no feedback to say which calls
    are of C functions: inside its loops, a call whose callable the code
    cannot name tries each common convention of a C function at run time
    (FASTCALL, O, NOARGS, FASTCALL with keywords), the generic call else.
    Same values, errors and tracebacks as the interpreter; outside loops,
    in warm code and in compact code, no such paths."""
    translator, _ = translated(unseen_c_calls)
    conventions = {flags for _, convs in translator.direct_c_calls for flags in convs}
    assert {0x80, 0x08, 0x04, 0x82} <= conventions     # FASTCALL, O, NOARGS, FASTCALL|KEYWORDS
    assert not translated(unseen_c_call_outside_loops)[0].direct_c_calls
    assert not translated(unseen_c_calls, compact=1)[0].direct_c_calls

    for make in (pow, max, divmod, lambda a, b: (a, b), Holder, complex):
        differential(unseen_c_calls, [5, 3, 9, 1], 7, make)
    # errors raised inside the C function: the call's line in the traceback
    differential(unseen_c_calls, [5, "x", 9], 2, pow)         # sort: str < int
    differential(unseen_c_calls, [5, 3], 2, lambda a, b: 1 / 0)
    differential(unseen_c_calls, [float("inf"), 3], 1, pow)   # floor of inf
    differential(unseen_c_calls, [], 1, pow)                  # pop from empty list


def test_unseen_c_calls_release_their_arguments():
    compiled = fresh_copy(unseen_c_calls)
    run_compiled(compiled, [5, 3, 9, 1], 3, pow)
    assert pyjion_clr.info(compiled).compiled
    item = object()
    seq = [item, item, item]
    before = sys.getrefcount(item)
    pyjion_clr.enable()
    try:
        for _ in range(3):
            _outcome(compiled, seq, 2, lambda a, b: b)     # sort: object() < object()
        compiled([1, 2], 2, pow)
    finally:
        pyjion_clr.disable()
    assert sys.getrefcount(item) == before


class Tally:
    def __init__(self, start):
        self.count = start

    def bump(self, by):
        self.count += by
        return self.count

    def check(self, limit):
        if self.count > limit:
            raise ValueError("over %d" % limit)
        return self


def identity(x):
    return x


def unseen_python_calls(make, n, limit, item):
    """Calls in a loop of Python callables only the running code knows: a
    class, bound methods kept in locals, a function that only returns its
    argument (made without a frame), one that raises once the tally passes
    `limit`."""
    tally = make(0)
    bump, check, ident = tally.bump, tally.check, identity
    total = 0
    kept = []
    for i in range(n):
        total += bump(i)
        kept.append(ident(item))
        check(limit).bump(0)
        tally = make(tally.count)
        bump = tally.bump
    return total, tally.count, len(kept)


def unseen_python_call_outside_loops(make):
    return make(1).bump(2)


def test_python_functions_called_directly_without_feedback():
    """Code compiled at its first call: inside its loops, a call whose
    callable has no feedback gets the leaf halves of a recorded call (the
    callee pushed and entered directly once the site has recorded it), as
    calls the interpreter saw do; outside loops and in compact code, the
    helper only.  Same values, errors and tracebacks as the interpreter,
    and every reference released."""
    assert translated(unseen_python_calls)[0].leaf_half_sites >= 4
    assert translated(unseen_python_call_outside_loops)[0].leaf_half_sites == 0
    assert translated(unseen_python_calls, compact=1)[0].leaf_half_sites == 0

    item = object()
    differential(unseen_python_calls, Tally, 40, 10 ** 9, item)
    differential(unseen_python_calls, Tally, 40, 300, item)       # check raises
    differential(unseen_python_calls, lambda v: Tally(v), 40, 10 ** 9, item)
    compiled = fresh_copy(unseen_python_calls)
    run_compiled(compiled, Tally, 3, 10 ** 9, item)
    before = sys.getrefcount(item)
    pyjion_clr.enable()
    try:
        for limit in (10 ** 9, 300):
            _outcome(compiled, Tally, 40, limit, item)
    finally:
        pyjion_clr.disable()
    assert sys.getrefcount(item) == before
    assert pyjion_clr.info(compiled).compiled_calls >= 3


class Nested:
    """repr() recursing through a METH_O builtin, once per link."""

    def __init__(self, inner):
        self.inner = inner

    @classmethod
    def chain(cls, depth):
        obj = None
        for _ in range(depth):
            obj = cls(obj)
        return obj

    def __repr__(self):
        return describe(self.inner)


def describe(obj):
    return "<" + repr(obj) + ">"


describe_original = describe


def deepest_chain_repr(fn, limit=300):
    """The shortest Nested chain fn cannot describe under `limit`."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    try:
        for n in range(1, limit):
            try:
                fn(Nested.chain(n))
            except RecursionError:
                return n
    finally:
        sys.setrecursionlimit(old)


def test_c_calls_count_against_the_recursion_limit():
    """A METH_O call spends one of the recursion budget, as in the
    interpreter: repr() recursing through compiled code runs out at the
    same depth."""
    warm = warmed_copy(describe, None)
    assert "PRECALL_NO_KW_BUILTIN_O" in specialised_names(warm.__code__)
    try:
        pyjion_clr.disable()
        globals()["describe"] = fresh_copy(describe_original)
        expected = deepest_chain_repr(describe)
        pyjion_clr.enable()
        globals()["describe"] = warm
        assert expected is not None
        assert deepest_chain_repr(warm) == expected
    finally:
        globals()["describe"] = describe_original


def class_sites(cls, k):
    return cls.A * k, cls.B


def _class_site_story(fn):
    """Class attributes read at sites the interpreter gave up on (3.11 does
    not specialise them; compiled code reads a cached value guarded by the
    class's and the value's type versions): each change must show."""
    class Descr:
        pass

    class Base:
        A = 2
        B = Descr()

    class Sub(Base):
        pass

    class Meta(type):
        pass

    class WithMeta(metaclass=Meta):
        A = 3
        B = "meta"

    def helper():
        return "f"

    out = []

    def read(cls, k=1):
        for _ in range(3):
            try:
                a, b = fn(cls, k)
                out.append((a, b if not isinstance(b, Descr) else "descr"))
            except Exception as e:          # noqa: BLE001 - compared both ways
                out.append((type(e).__name__, str(e)))

    read(Base)
    read(Sub, 2)
    Base.A = 5                      # the class changes: new version
    read(Base)
    read(Sub)                       # ... and its subclass's
    Descr.__get__ = lambda self, obj, typ: ("got", typ.__name__)   # the value's type changes
    read(Base)
    read(Sub)
    Base.B = helper                 # a function: handed out as itself
    read(Base)
    Base.B = staticmethod(helper)   # a descriptor: never cached
    read(Base)
    read(WithMeta)                  # a metaclass: not the cached kind
    read(Base())                    # an instance
    del Base.B
    read(Sub)
    read(3)
    return [(a, b.__name__ if callable(b) else b) for a, b in out]


def test_class_attributes_at_generic_sites():
    warm = warmed_copy(class_sites, type("W", (), {"A": 1, "B": 2}), 1)
    assert "LOAD_ATTR_ADAPTIVE" in specialised_names(warm.__code__)
    assert_runs_as_interpreted(warm, class_sites, _class_site_story)


def value_of(obj):
    return obj.value


def _given_up_site_story(fn):
    """A LOAD_ATTR site that keeps finding nothing to record (a property)
    stops looking after some tries; it must still read every later owner,
    value and class change as the interpreter does."""
    class WithProperty:
        def __init__(self, n):
            self.n = n

        @property
        def value(self):
            return self.n * 2

    class Plain:
        def __init__(self, v):
            self.value = v

    class OnClass:
        value = "class"

    out = [fn(WithProperty(i)) for i in range(40)]
    plain = Plain(1)
    out.append(fn(plain))
    plain.value = 2
    out.append(fn(plain))
    out += [fn(OnClass()), fn(OnClass)]
    OnClass.value = "changed"
    out += [fn(OnClass()), fn(OnClass)]
    WithProperty.value = property(lambda self: -self.n)
    out.append(fn(WithProperty(5)))
    return out


def test_a_site_that_stops_recording_still_reads_right():
    warm = warmed_copy(value_of, type("W", (), {"value": 1}))
    assert_runs_as_interpreted(warm, value_of, _given_up_site_story)


def item_from_the_end(seq, i):
    return seq[i]


@pytest.mark.parametrize("args", [
    ([1, 2, 3], -1), ((1, 2, 3), -3), (b"\x00\xff", -1), (b"ab", 1),    # inline
    ([1], -2), (b"", 0), ((), -1),                                      # IndexError
    ("ab", -1), ({-1: "m"}, -1), (bytearray(b"ab"), -1), ([1], 2 ** 40),
])
def test_a_subscript_the_interpreter_gave_up_on(args):
    # it specialises subscripts of lists, tuples and dicts; on bytes it
    # gives up, yet the site keeps the inline path, which takes them (and
    # negative indices, which the interpreter's list and tuple forms do not)
    warm = warmed_copy(item_from_the_end, b"abc", -1)
    names = specialised_names(warm.__code__)
    assert "BINARY_SUBSCR_ADAPTIVE" in names and "BINARY_SUBSCR_TUPLE_INT" not in names
    listing = io.StringIO()
    pyjion_clr.dis(warm, file=listing)
    assert "ldind.u1" in listing.getvalue()          # a byte read inline
    pyjion_clr.disable()
    expected = _outcome(fresh_copy(item_from_the_end), *args)
    pyjion_clr.enable()
    before = [sys.getrefcount(a) for a in args]
    assert repr(_outcome(warm, *args)) == repr(expected)
    assert [sys.getrefcount(a) for a in args] == before
    assert pyjion_clr.info(warm).compiled


def constant_items(seq):
    return seq[0], seq[2], seq[-1], seq[-3]


@pytest.mark.parametrize("warm_with", [[4, 5, 6], (4, 5, 6)])
@pytest.mark.parametrize("arg", [
    [1, 2, 3], (1, 2, 3), [1, 2, 3, 4], (1, 2, 3, 4),       # inline, or the other type
    b"xyz", "xyz", bytearray(b"xyz"), {0: "a", 2: "b", -1: "c", -3: "d"},
    [1, 2], (1, 2), [], b"x",                               # IndexError
])
def test_constant_indexes_by_the_type_the_interpreter_saw(warm_with, arg):
    # a site specialised for lists (or tuples) has only that type's path
    # inline, and constant indexes no sign test: anything else, and an
    # index out of range, the helper's
    warm = warmed_copy(constant_items, warm_with)
    kind = "LIST_INT" if type(warm_with) is list else "TUPLE_INT"
    assert "BINARY_SUBSCR_" + kind in specialised_names(warm.__code__)
    pyjion_clr.disable()
    expected = _outcome(fresh_copy(constant_items), arg)
    pyjion_clr.enable()
    before = sys.getrefcount(arg)
    assert repr(_outcome(warm, arg)) == repr(expected)
    assert sys.getrefcount(arg) == before
    assert pyjion_clr.info(warm).compiled


def number_compares(a, b):
    jumped = "lt" if a < b else "ge"
    if a == b:
        jumped += " eq"
    return jumped, a < b, a <= b, a == b, a != b, a > b, a >= b


NAN = float("nan")


@pytest.mark.parametrize("warm_args", [(1, 2), (1.5, 2.5), (1.5, 2)])
@pytest.mark.parametrize("args", [
    (1.5, 2), (2, 1.5), (2.0, 2), (2, 2.0), (-0.0, 0), (0, -0.0),        # a float with an int
    (NAN, 1), (1, NAN), (float("inf"), 2 ** 29), (-1.0, -(2 ** 30 - 1)),
    (0.5, 2 ** 40), (2 ** 40, 0.5), (1.0, True), (3, 4), (2.5, 2.5), ("a", "b"),
])
def test_compares_of_numbers(warm_args, args):
    # whatever the interpreter saw (two ints, two floats, a mix it never
    # specialises), every kind compares as it does
    warm = warmed_copy(number_compares, *warm_args)
    pyjion_clr.disable()
    expected = _outcome(fresh_copy(number_compares), *args)
    pyjion_clr.enable()
    assert repr(_outcome(warm, *args)) == repr(expected)
    assert pyjion_clr.info(warm).compiled


def product(x, y):
    return x * y


def test_compact_code_keeps_the_kind_the_interpreter_saw():
    # at compaction level 2 sites without feedback keep only two small
    # ints; a site the interpreter specialised for floats keeps floats
    from pyjion_clr import _cil
    warm = warmed_copy(product, 1.5, 2.5)
    assert "BINARY_OP_MULTIPLY_FLOAT" in specialised_names(warm.__code__)
    _, method = translated(warm, compact=2)
    assert "ldind.r8" in _cil.disassemble(method)       # a float's value read inline


def mixed_ratio(u, a):
    return (a - u) / a


def test_compact_code_keeps_the_mix_where_the_interpreter_gave_up():
    # level 1 drops the float-with-int path at number sites, but not where
    # the interpreter ran the site and gave up, as it does on that mix
    # (chaos's Spline.__call__: `(ua - u) / (ua - ub)`, ints and a float)
    mixed = warmed_copy(mixed_ratio, 0.25, 2)
    ints = warmed_copy(mixed_ratio, 0, 2)
    assert "BINARY_OP_SUBTRACT_INT" in specialised_names(ints.__code__)
    assert "BINARY_OP_SUBTRACT_INT" not in specialised_names(mixed.__code__)
    assert il_instructions(mixed, 1) == il_instructions(mixed, 0)
    assert il_instructions(ints, 1) < il_instructions(ints, 0)
    assert il_instructions(mixed, 2) < il_instructions(mixed, 1)


def test_a_mix_kept_in_compact_code_gives_the_interpreters_results(monkeypatch):
    from pyjion_clr import _translate
    # a copy warmed alike is over the limit at level 0, within it at level 1
    level1 = il_instructions(warmed_copy(mixed_ratio, 0.25, 2), 1)
    monkeypatch.setitem(_translate.MINOPTS_LIMITS, "instructions", level1)
    warm = warmed_copy(mixed_ratio, 0.25, 2)

    def run(fn):
        return [repr(_outcome(fn, *args)) for args in (
            (0.25, 2), (0.5, 3), (1, 2.5), (-0.0, 0), (NAN, 2), (2, 2), (0.5, -7),
            (0.5, 2 ** 40), (0.5, True), (1.5, 2 ** 30), ("a", 1))]
    assert_runs_as_interpreted(warm, mixed_ratio, run)


def attribute_sites(obj):
    x = obj.x
    obj.y = x + 1
    return x, obj.y, obj.area()


def make_shapes():
    """Fresh classes: one keeping attributes in inline values, a subclass
    of it, one with __slots__."""
    class Shape:
        def __init__(self, x):
            self.x = x
            self.y = 0

        def area(self):
            return ("area", self.x)

    class SubShape(Shape):
        pass

    class Slotted:
        __slots__ = ("x", "y")

        def __init__(self, x):
            self.x = x
            self.y = 0

        def area(self):
            return ("slotted", self.x)

    return Shape, SubShape, Slotted


def _inline_values_story(fn, Shape, SubShape):
    out = [fn(Shape(i)) for i in range(3)]
    made_dict = Shape(5)
    made_dict.__dict__                      # the instance's values move to a dict
    out += [fn(made_dict), sorted(vars(made_dict).items())]
    deleted = Shape(6)
    del deleted.x
    out.append(_outcome(fn, deleted))
    new_value = Shape.__new__(Shape)
    new_value.x = 7
    out += [fn(new_value), list(vars(new_value))]   # y is stored new: insertion order
    shadowed = Shape(8)
    shadowed.area = lambda: "own"           # a key joins the shared keys
    out += [fn(shadowed), fn(Shape(9)), fn(SubShape(10))]
    before = Shape(12)
    Shape.area = lambda self: "replaced"    # the class changes its version
    out.append(fn(Shape(11)))
    Shape.x = property(lambda self: 100)
    out.append(fn(before))
    return out


def _slots_story(fn, Slotted):
    out = [fn(Slotted(i)) for i in range(3)]
    deleted = Slotted(4)
    del deleted.x
    out.append(_outcome(fn, deleted))
    unset = Slotted.__new__(Slotted)
    unset.x = 5
    out.append(fn(unset))
    Slotted.area = lambda self: "replaced"
    out.append(fn(Slotted(6)))
    return out


def _type_version(cls):
    import ctypes
    from pyjion_clr import _native
    return ctypes.c_uint32.from_address(id(cls) + _native.target_description()["type_version"]).value


@pytest.mark.parametrize("kind", ["inline values", "slots"])
def test_attribute_sites_use_what_the_interpreter_cached(kind):
    """The type version and place the interpreter's own cache holds for a
    specialised attribute or method site are constants of the compiled
    code, checked first; instances and classes that fail those guards
    (a __dict__ made, an attribute deleted or shadowing the method, a class
    changed) must still give the interpreter's results."""
    Shape, SubShape, Slotted = make_shapes()
    warm_with = Shape(1) if kind == "inline values" else Slotted(1)
    warm = warmed_copy(attribute_sites, warm_with)
    expected_forms = ({"LOAD_ATTR_INSTANCE_VALUE", "STORE_ATTR_INSTANCE_VALUE",
                       "LOAD_METHOD_WITH_VALUES"} if kind == "inline values" else
                      {"LOAD_ATTR_SLOT", "STORE_ATTR_SLOT", "LOAD_METHOD_NO_DICT"})
    assert expected_forms <= specialised_names(warm.__code__)
    from harness import listing
    version = _type_version(type(warm_with))
    assert len(re.findall(r"ldc\.i4(?:\.s)? +%d\n" % version, listing(warm))) >= 3

    # the compiled run first, with the classes it was compiled for (the
    # story changes them); the interpreter's with fresh ones
    story = _inline_values_story if kind == "inline values" else _slots_story
    classes = (Shape, SubShape) if kind == "inline values" else (Slotted,)
    compiled = story(warm, *classes)
    assert pyjion_clr.info(warm).compiled
    pyjion_clr.disable()
    fresh = make_shapes()
    expected = story(fresh_copy(attribute_sites),
                     *(fresh[:2] if kind == "inline values" else fresh[2:]))
    assert compiled == expected


def make_wide():
    """A fresh class whose instances keep their attributes in a dict of
    their own: the first 30 fill the shared keys, x and y go to a
    (combined) __dict__, read by LOAD_ATTR_WITH_HINT."""
    class Wide:
        def __init__(self, x, order=("x", "y")):
            for i in range(30):
                setattr(self, "a%d" % i, i)
            for name in order:
                setattr(self, name, x if name == "x" else 0)

        def area(self):
            return ("wide", self.x)

    class SubWide(Wide):
        pass

    return Wide, SubWide


def _instance_dict_story(fn, Wide, SubWide):
    out = [fn(Wide(i)) for i in range(3)]
    out.append(fn(Wide(3, order=("y", "x"))))           # x at another entry
    deleted = Wide(4)
    del deleted.x
    out.append(_outcome(fn, deleted))
    readded = Wide(5)
    del readded.x
    readded.x = 6                                       # at a new entry
    out += [fn(readded), fn(SubWide(7))]
    other_keys = Wide(8)
    other_keys.__dict__[1] = "not a str key"            # keys of the general kind
    out.append(fn(other_keys))
    before = Wide(9)
    Wide.x = property(lambda self: 100)                 # the class's version changes
    out.append(fn(before))
    return out


def test_instance_dict_sites_use_what_the_interpreter_cached():
    """LOAD_ATTR_WITH_HINT's type version and entry index are constants of
    the compiled code, checked first, with the entry's key."""
    Wide, SubWide = make_wide()
    warm = warmed_copy(attribute_sites, Wide(1))
    assert "LOAD_ATTR_WITH_HINT" in specialised_names(warm.__code__)
    from harness import listing
    assert re.search(r"ldc\.i4(?:\.s)? +%d\n" % _type_version(Wide), listing(warm))
    compiled = _instance_dict_story(warm, Wide, SubWide)
    assert pyjion_clr.info(warm).compiled
    pyjion_clr.disable()
    expected = _instance_dict_story(fresh_copy(attribute_sites), *make_wide())
    assert compiled == expected


GLOBALS_SOURCE = '''
SCALE = 3

def reads_globals(x):
    return SCALE * x, len(x * "ab"), abs(-x)
'''


def _namespace():
    """A fresh module namespace defining reads_globals."""
    import builtins
    namespace = {"__builtins__": builtins}
    exec(GLOBALS_SOURCE, namespace)
    return namespace


def _globals_story(fn, namespace):
    import types
    out = [fn(1), fn(2)]
    namespace["SCALE"] = 5                  # rebound: the same entry, a new value
    out.append(fn(1))
    del namespace["SCALE"]                  # the entry emptied
    out.append(_outcome(fn, 1))
    namespace["SCALE"] = 7                  # keys change
    out.append(fn(1))
    namespace["len"] = lambda s: "global len"   # a global hides the builtin
    out.append(fn(1))
    del namespace["len"]
    out.append(fn(1))
    out.append(call_with_builtin_shadowed("abs", lambda: fn(3)))
    other = dict(namespace, SCALE=11)       # the same code under other globals
    out.append(types.FunctionType(fn.__code__, other)(1))
    return out


def test_global_sites_use_what_the_interpreter_cached():
    """A LOAD_GLOBAL the interpreter specialised reads the entry its cache
    names while the keys versions it recorded hold; rebinding, deleting,
    adding and shadowing names and other globals must still give the
    interpreter's results."""
    from pyjion_clr import _bytecode
    namespace = _namespace()
    warm = warmed_copy(namespace["reads_globals"], 2)
    assert {"LOAD_GLOBAL_MODULE", "LOAD_GLOBAL_BUILTIN"} <= specialised_names(warm.__code__)
    cached = [ins.cached for ins in _bytecode.analyze(warm.__code__).instrs
              if ins.name == "LOAD_GLOBAL"]
    assert len(cached) == 3 and None not in cached
    from harness import listing
    assert re.search(r"ldc\.i4(?:\.s)? +%d\n" % cached[0].module_keys_version, listing(warm))

    compiled = _globals_story(warm, namespace)
    assert pyjion_clr.info(warm).compiled
    pyjion_clr.disable()
    fresh = _namespace()
    assert compiled == _globals_story(fresh["reads_globals"], fresh)


def test_global_caches_out_of_date_at_compile_time_are_left_out():
    """A name the module defines after the interpreter specialised the code
    leaves its LOAD_GLOBAL caches out of date; the compiled code must not
    check them first (they would fail on every run) and must read right."""
    from harness import WARM_CALLS, listing
    from pyjion_clr import _bytecode
    namespace = _namespace()
    fn = fresh_copy(namespace["reads_globals"])
    pyjion_clr.config(threshold=WARM_CALLS)
    pyjion_clr.enable()
    for _ in range(WARM_CALLS):
        fn(2)
    cached = [ins.cached for ins in _bytecode.analyze(fn.__code__).instrs
              if ins.name == "LOAD_GLOBAL"]
    namespace["DEFINED_LATER"] = 1
    result = fn(2)
    assert pyjion_clr.info(fn).compiled
    assert not re.search(r"ldc\.i4(?:\.s)? +%d\n" % cached[0].module_keys_version, listing(fn))
    namespace["SCALE"] = 4
    results = [result, fn(2)]
    pyjion_clr.disable()
    assert results == [(6, 4, 2), (8, 4, 2)]


def test_code_too_large_searches_site_caches_in_the_helper(monkeypatch):
    """Checking the interpreter's cache and then searching the site's own
    cache inline is the most code: a function over one of RyuJIT's limits
    so keeps the interpreter's checks and leaves the search to the helper
    before it loses any fast path (hexiom's constraint_pass).  Objects the
    interpreter's cache does not speak for get the same results there."""
    from harness import WARM_CALLS, listing
    from pyjion_clr import _translate
    Shape, SubShape, Slotted = make_shapes()
    fn = fresh_copy(attribute_sites)
    pyjion_clr.config(threshold=WARM_CALLS)
    pyjion_clr.enable()
    for _ in range(WARM_CALLS):
        fn(Shape(1))
    sizes = [il_instructions(fn, site_caches_inline=inline) for inline in (True, False)]
    assert sizes[0] > sizes[1]
    monkeypatch.setitem(_translate.MINOPTS_LIMITS, "instructions", sum(sizes) // 2)
    results = [fn(Shape(2)), fn(SubShape(3)), fn(Slotted(4)), fn(Shape(5))]
    assert pyjion_clr.info(fn).compiled
    text = listing(fn)
    assert re.search(r"ldc\.i4(?:\.s)? +%d\n" % _type_version(Shape), text)
    assert "call_recorded_leaf" in text     # not compact code: it keeps leaf halves
    pyjion_clr.disable()
    assert results == [(2, 3, ("area", 2)), (3, 4, ("area", 3)), (4, 5, ("slotted", 4)),
                       (5, 6, ("area", 5))]


def _module_story(fn, mod):
    out = [_outcome(fn, mod, 2)]
    mod.scale = 10                          # the same entry, a new value
    out.append(_outcome(fn, mod, 2))
    del mod.twice                           # the entry emptied
    out.append(_outcome(fn, mod, 2))
    mod.twice = abs                         # the keys change
    out.append(_outcome(fn, mod, -2))
    out.append(_outcome(fn, _module("other"), 2))
    return out


def test_module_sites_use_what_the_interpreter_cached():
    """Module attributes and methods the interpreter specialised are read
    from the entry its cache names while the module dict's keys keep the
    version it recorded."""
    from harness import listing
    from pyjion_clr import _bytecode
    mod = _module("fed")
    warm = warmed_copy(module_sites, mod, 1)
    cached = [ins.cached for ins in _bytecode.analyze(warm.__code__).instrs
              if ins.name in ("LOAD_ATTR", "LOAD_METHOD")]
    assert len(cached) == 2 and None not in cached
    assert re.search(r"ldc\.i4(?:\.s)? +%d\n" % cached[0].keys_version, listing(warm))
    compiled = _module_story(warm, mod)
    pyjion_clr.disable()
    assert compiled == _module_story(fresh_copy(module_sites), _module("fed"))


# --- sites the interpreter gave up on, and code profiled after it ran compiled


class _Plain:
    def __init__(self, size):
        self.size = size

    def describe(self, k):
        return ("plain", self.size, k)


class _Other:
    def __init__(self, size):
        self.extra = "x"
        self.size = size

    def describe(self, k):
        return ("other", self.size * k)


class _Slots:
    __slots__ = ("size",)

    def __init__(self, size):
        self.size = size

    def describe(self, k):
        return ("slots", self.size - k)


class _WithDict(_Plain):
    def __init__(self, size):
        self.__dict__["size"] = size        # a real __dict__, made before any attribute
        vars(self)


def grow(obj, k):
    obj.size = obj.size + k
    return obj.describe(k)


def _polymorphic_story(fn):
    """The same sites over instances of several classes, then with a
    method replaced, an instance attribute shadowing a method, a class
    attribute under an instance's and an attribute deleted."""
    objs = [_Plain(1), _Other(2), _Slots(3), _WithDict(4)]
    out = [fn(obj, k) for k in range(3) for obj in objs]
    _Other.describe = lambda self, k: ("replaced", k)
    shadowed = _Plain(5)
    shadowed.describe = lambda k: ("own", k)
    out += [fn(obj, 1) for obj in objs + [shadowed]]
    del objs[0].size
    try:
        fn(objs[0], 1)
    except AttributeError as exc:
        out.append(str(exc))
    _Other.describe = lambda self, k: ("other", self.size * k)
    return out, [obj.size for obj in objs[1:]]


def test_sites_the_interpreter_gave_up_on_use_their_own_caches():
    """Attribute and method sites that saw several classes are left
    unspecialised (ADAPTIVE, backing off) by the interpreter for a while;
    compiled then, they still check the site's own cache inline."""
    from pyjion_clr import _bytecode
    fn = fresh_copy(grow)
    pyjion_clr.config(threshold=1000)
    pyjion_clr.enable()
    kinds = (_Plain, _Other, _Slots, _WithDict)
    for i in range(80):         # (here each site is backing off after misses)
        fn(kinds[i % 4](i), 1)
    seen = {ins.name: ins.seen for ins in _bytecode.analyze(fn.__code__).instrs
            if ins.name in ("LOAD_ATTR", "STORE_ATTR", "LOAD_METHOD")}
    assert set(seen.values()) == {_bytecode.GENERIC}, seen
    pyjion_clr.config(threshold=0)
    fn(_Plain(0), 0)
    assert pyjion_clr.info(fn).compiled
    compiled = _polymorphic_story(fn)
    pyjion_clr.disable()
    _Other.describe = lambda self, k: ("other", self.size * k)
    assert compiled == _polymorphic_story(fresh_copy(grow))


def scaled_sum(objs, k):
    total = 0
    for obj in objs:            # a loop: compiled at the first call, cold
        total += obj.size * k
    return total


def _profile(fn, run, calls):
    """run(fn) `calls` times with fn compiled at its first call: the
    results, and pyjion_clr.info(fn) after each call."""
    pyjion_clr.config(threshold=0)
    pyjion_clr.enable()
    results, infos = [], []
    for _ in range(calls):
        results.append(run(fn))
        infos.append(pyjion_clr.info(fn))
    pyjion_clr.disable()
    return results, infos


def test_code_compiled_cold_is_profiled_and_compiled_again():
    """A function with a loop is compiled before the interpreter has
    specialised any of it; after PROFILE_AFTER_CALLS compiled calls the
    interpreter runs it until it has quickened it (a few calls: it does so
    at the eighth entry or loop edge), and it is compiled again with that
    feedback: the interpreter's type version is in the new code."""
    from harness import listing
    from pyjion_clr import _driver
    objs = [_Plain(i) for i in range(3)]
    fn = fresh_copy(scaled_sum)
    calls = _driver.PROFILE_AFTER_CALLS + 20
    recompiled = _driver.stats()["recompiled"]
    results, infos = _profile(fn, lambda f: f(objs, 2), calls)
    assert results == [6] * calls
    assert infos[0].compiled and not infos[0].recompiled
    assert infos[-1].compiled and infos[-1].recompiled
    assert _driver.stats()["recompiled"] > recompiled
    counts = [info.compiled_calls for info in infos]
    interpreted = [i for i in range(1, calls) if counts[i] == counts[i - 1]]
    # three: the eighth warm-up comes in the second, the third runs quickened
    assert interpreted == [_driver.PROFILE_AFTER_CALLS + i for i in range(3)]
    assert "LOAD_ATTR_INSTANCE_VALUE" in specialised_names(fn.__code__)
    assert re.search(r"ldc\.i4(?:\.s)? +%d\n" % _type_version(_Plain), listing(fn))
    pyjion_clr.enable()
    assert fn([_Other(1), _Slots(2)], 3) == 9      # the guards stay
    pyjion_clr.disable()


def countdown(me, n, acc):
    for _ in range(1):          # a loop: compiled at the first call
        pass
    if n == 0:
        return acc
    return me(me, n - 1, acc + n)


def test_code_compiled_again_under_its_own_frames():
    """Profiling and the new compile start deep in a recursion: the calls
    below go on in the code compiled before, those above in the new one."""
    from pyjion_clr import _driver
    fn = fresh_copy(countdown)
    depth = _driver.PROFILE_AFTER_CALLS + 60
    results, infos = _profile(fn, lambda f: f(f, depth, 0), 2)
    assert results == [depth * (depth + 1) // 2] * 2
    assert infos[0].recompiled


def numbers(n):
    for i in range(n):
        yield i * 2


def test_generators_are_not_compiled_again():
    # a suspended generator resumes in the code that made it
    fn = fresh_copy(numbers)
    from pyjion_clr import _driver
    results, infos = _profile(fn, lambda f: sum(f(3)), _driver.PROFILE_AFTER_CALLS + 20)
    assert results == [6] * len(results)
    assert infos[-1].compiled and not infos[-1].recompiled
    assert infos[-1].compiled_calls == 4 * len(results)     # each resumption compiled


def test_a_failed_recompile_keeps_the_code_compiled(monkeypatch):
    from pyjion_clr import _driver, backends
    backend = backends.get(_driver.backend_name())
    real = backend.compile

    def compile_once(code):
        if code is fn.__code__ and pyjion_clr.info(fn).compiled:
            raise RuntimeError("no second compile")
        return real(code)

    monkeypatch.setattr(backend, "compile", compile_once)
    objs = [_Plain(1)]
    fn = fresh_copy(scaled_sum)
    fallbacks = _driver.stats()["fallback_total"]
    calls = _driver.PROFILE_AFTER_CALLS + 20
    results, infos = _profile(fn, lambda f: f(objs, 2), calls)
    assert results == [2] * calls
    assert infos[-1].compiled and not infos[-1].recompiled
    assert infos[-1].compiled_calls > infos[-5].compiled_calls   # compiled calls again
    assert _driver.stats()["fallback_total"] == fallbacks


def test_rarely_called_code_is_not_profiled():
    """Code that makes fewer than one in hookc's PROFILED_SHARE (1,000) of
    all compiled calls until it is due stays as first compiled: its
    profiling and second compile would gain little and land in the middle
    of its callers' work."""
    from pyjion_clr import _driver

    def busy():
        return 1

    def churn(n):
        total = 0
        for _ in range(n):
            total += busy()
        return total

    objs = [_Plain(1)]
    fn = fresh_copy(scaled_sum)
    results, infos = _profile(fn, lambda f: (f(objs, 2), churn(1200))[0],
                              _driver.PROFILE_AFTER_CALLS + 20)
    assert results == [2] * len(results)
    assert infos[-1].compiled and not infos[-1].recompiled
    assert infos[-1].compiled_calls == len(results)        # none interpreted


def clamp(x, limit):
    """A branch with a C call the warm-up never takes."""
    if x > limit:
        x = abs(limit - x)
    return x


def test_branches_the_interpreter_never_ran_count_as_cold():
    """Instructions in a straight-line run the interpreter has not entered
    since it quickened the code count as cold paths: here that leaves no
    native call in the body, so the method is compiled without a P/Invoke
    frame, its calls through thunks.  The branch still runs right when
    taken, and what it raises points at its line."""
    from harness import listing
    warm = warmed_copy(clamp, 1, 5)
    assert "thunk" in listing(warm)
    pyjion_clr.disable()
    cases = [(1, 5), (9, 5), (7.5, 2), (3, 2.5), (10 ** 20, 10), ([1], [0]), ("b", "a")]

    def outcomes(fn):
        out = []
        for args in cases:
            try:
                out.append(fn(*args))
            except TypeError as exc:
                out.append((str(exc), exc.__traceback__.tb_next.tb_lineno))
        return out

    expected = outcomes(clamp)
    pyjion_clr.enable()
    assert outcomes(warm) == expected
    assert pyjion_clr.info(warm).compiled
    pyjion_clr.disable()
    # without the interpreter's word the same code keeps the call inline
    _, method = translated(clamp)
    assert method.shape["body_native_calls"] > 0
    # a C call the interpreter made through its specialised PRECALL (which
    # skips the CALL, leaving it as quickened) has run: it stays inline
    warm_call = warmed_copy(clamp, 9, 5)
    assert "thunk" not in listing(warm_call)
    pyjion_clr.disable()
