"""Deferred pushes: LOAD_FAST and LOAD_CONST leave the value in the local
or the constant, and the instruction that takes it borrows it there.  These
tests aim at what that could break: a borrowed value being modified (a
float reused in place), references lost or doubled when a value is spilled
(on an error, into an attribute, a list item, a local, a return), and the
unwinder meeting a slot that holds nothing yet."""

import gc
import sys

import pytest

import pyjion_clr
from harness import (differential, fresh_copy, run_compiled, run_interpreted, translated,
                     warmed_copy)


def borrowed_floats_are_not_overwritten(n):
    a = 1.5
    out = []
    for i in range(n):
        b = a * 2.0         # the local b alone refers to the result
        c = b + a           # b is borrowed: its float must not become c
        d = c - 0.25        # nor may a constant
        out.append((a, b, c, d, 0.25, 2.0))
    return out


def refcounts_when_an_operation_fails_above_borrowed_values(n):
    obj = [1.0]
    x = 2
    before = sys.getrefcount(obj)
    errors = 0
    for i in range(n):
        # leaves a pointer to obj in the stack slot that obj, deferred,
        # stands for below: an unwinder releasing that slot without the
        # spill would take a reference from obj
        y = obj if i >= 0 else None
        try:
            obj + (x + None)            # obj and x wait below the failing +
        except TypeError:
            errors += 1
        try:
            obj + x.no_such_attribute   # a failing LOAD_ATTR
        except AttributeError:
            errors += 1
        try:
            x < obj[5]                  # a failing BINARY_SUBSCR
        except IndexError:
            errors += 1
    del y
    return errors, sys.getrefcount(obj) - before


class Box:
    def __init__(self):
        self.v = None


def refcounts_of_stored_values(n):
    val = object()
    box = Box()
    lst = [None]
    before = sys.getrefcount(val)
    for i in range(n):
        box.v = val                 # STORE_ATTR of a borrowed value
        lst[0] = val                # STORE_SUBSCR of a borrowed value
        lst.append(val)             # LOAD_METHOD on a borrowed owner
        same = val                  # STORE_FAST of a borrowed value
        same = same                 # ... of itself
    held = sys.getrefcount(val) - before
    lst.clear()
    box.v = None
    del same
    return held, sys.getrefcount(val) - before, box.v is None


def give_back(value):
    return value                    # RETURN_VALUE of a borrowed value


def returned_references(n):
    val = object()
    before = sys.getrefcount(val)
    kept = [give_back(val) for i in range(n)]
    return len(kept), sys.getrefcount(val) - before - n


def mixed_stack_at_a_join(flag, n):
    total = 0.0
    for i in range(n):
        # the value of the conditional expression arrives from two blocks
        total += (i * 0.5 if flag else i) + (total if i % 3 else 1.0)
    return total


def unbound_local_after_borrowed_values(flag):
    a = 3.0
    if flag:
        b = 1.0
    return a + b


def test_borrowed_floats_are_not_overwritten():
    differential(borrowed_floats_are_not_overwritten, 50)


def test_refcounts_when_an_operation_fails_above_borrowed_values():
    assert differential(refcounts_when_an_operation_fails_above_borrowed_values, 30).value == (90, 0)


def test_refcounts_of_stored_values():
    assert differential(refcounts_of_stored_values, 20).value == (23, 0, True)


def test_returned_references():
    assert differential(returned_references, 40).value == (40, 0)


def test_mixed_stack_at_a_join():
    differential(mixed_stack_at_a_join, True, 40)
    differential(mixed_stack_at_a_join, False, 40)


def test_unbound_local_after_borrowed_values():
    differential(unbound_local_after_borrowed_values, True)
    differential(unbound_local_after_borrowed_values, False)


class Truthy:
    def __init__(self, value):
        self.value = value

    def __bool__(self):
        return self.value


def branches_on_borrowed_values(n):
    t, f, none, obj = Truthy(True), Truthy(False), None, Truthy(True)
    before = sys.getrefcount(t), sys.getrefcount(f), sys.getrefcount(obj), sys.getrefcount(True)
    taken = []
    for i in range(n):
        if t:                       # __bool__: the value is spilled for the call
            taken.append(1)
        if not f:
            taken.append(2)
        if i % 2 == 0 and obj is not None:
            taken.append(3)
        if none is None:
            taken.append(4)
        if obj is none:
            taken.append(5)
        flag = i > 3
        if flag:                    # exactly True or False: no call
            taken.append(6)
    after = sys.getrefcount(t), sys.getrefcount(f), sys.getrefcount(obj), sys.getrefcount(True)
    return taken, [a - b for a, b in zip(after, before)]


def test_branches_on_borrowed_values():
    # compiling a function keeps a reference to True (its JIT record): let
    # Truthy's methods be compiled before the run that counts
    run_compiled(fresh_copy(branches_on_borrowed_values), 8)
    taken, leaked = differential(branches_on_borrowed_values, 8).value
    assert leaked == [0, 0, 0, 1]           # the local `flag` holds True


class Counter:
    def __init__(self):
        self.n = 0


def augmented_assignments_of_borrowed_values(n):
    """COPY and SWAP of deferred values (v, i, box below an in-place
    operation) move notes, not references: the counts must come out even,
    on success, when the operation fails, and when the index is rebound
    while copies of it wait on the stack."""
    v, box, i = [0, 1.5, "s"], Counter(), 1
    before = sys.getrefcount(v), sys.getrefcount(box)
    errors = 0
    for k in range(n):
        v[0] += k                   # LOAD_FAST v, LOAD_CONST 0, COPY 2, COPY 2 ... SWAP 3, SWAP 2
        v[i] *= 1.0                 # a local index
        box.n += 2                  # COPY 1 ... SWAP 2
        try:
            v[2] -= 1               # str - int fails with v and 2 copied on the stack
        except TypeError:
            errors += 1
        try:
            box.missing += 1        # LOAD_ATTR fails above the copy
        except AttributeError:
            errors += 1
        v[i] += (i := 0) + 1        # the old i is the index stored to
        i = 1
        v[-1], v[0] = v[0], v[-1]   # SWAP of the two values built
        v[0], v[-1] = v[-1], v[0]
        box                         # POP_TOP of a borrowed value
    after = sys.getrefcount(v), sys.getrefcount(box)
    return v, box.n, errors, [a - b for a, b in zip(after, before)]


def test_augmented_assignments_of_borrowed_values():
    assert differential(augmented_assignments_of_borrowed_values, 30).value[2:] == (60, [0, 0])


def values_waiting_across_calls(n):
    """A deferred local or constant below a call, a global load or a
    builder stays where it is while they run (and when they fail)."""
    a, lst = 1.5, []
    before = sys.getrefcount(lst)
    errors = 0
    out = []
    for i in range(n):
        out.append(a + len(lst))                    # a waits below LOAD_GLOBAL, CALL
        out.append(a * float(i) - abs(-a))
        out.append((lst, (i, a)))                   # BUILD_TUPLE above a deferred lst
        try:
            out.append(a + int("x"))                # the call fails with a deferred below
        except ValueError:
            errors += 1
        try:
            out.append(lst + [a, undefined_name])   # LOAD_GLOBAL fails above lst, a
        except NameError:
            errors += 1
    del out
    return errors, sys.getrefcount(lst) - before


def test_values_waiting_across_calls():
    assert differential(values_waiting_across_calls, 30).value == (60, 0)


# Int results a BINARY_OP or COMPARE_OP takes next stay unboxed (no int
# object): chains past one digit, into floats, into comparisons, and
# failing with one waiting on the stack.  Each function is small, so that
# it is compiled with every fast path (big code gets fewer: see
# translate.COMPACT_LEVELS).
def int_chain_arithmetic(n, k):
    out = []
    for i in range(-n, n):
        j = i * 7 + k
        out.append((i + j) * (i + j + 1) // 2 + i + 1)
        out.append((i * 40000) * (j * 40000) - (i << 20) * (k << 9))
        out.append((i - j) % 7 + (i + j) // 3 + ((i ^ j) & 12) + (i | 5))
    return out


def int_chain_into_floats_and_compares(n, k):
    out = []
    for i in range(-n, n):
        j = i * 7 + k
        out.append(1.0 / ((i + j) * (i + j + 1) // 2 + 3) if i != 0 else None)
        out.append((i * j < k * 3, (i * k) + 0.25))
        out.append((0 <= i + j < k, i * 2 < j < k * 3))     # SWAP, COPY above a sum
        out.append((i + 1) << (j % 40 - 5) if j % 40 >= 5 else None)
    return out


def int_chain_failing(n, k):
    errors = 0
    for i in range(-n, n):
        j = i * 7 + k
        try:
            (i * j) + (k + None)            # i * j waits unboxed below the failure
        except TypeError:
            errors += 1
        try:
            (i * j) // (i - i)              # ZeroDivisionError from the helper
        except ZeroDivisionError:
            errors += 1
    return errors


@pytest.mark.parametrize("fn", [int_chain_arithmetic, int_chain_into_floats_and_compares,
                                int_chain_failing])
def test_int_chains(fn):
    from pyjion_clr import _translate
    translator, method = translated(fn)
    assert not _translate.over_minopts_limit(method.shape)
    assert translator.unboxed_locals                # some result is left unboxed
    for k in (3, -2, 2 ** 29, 0):
        differential(fn, 20, k)


# Without feedback (a function with a loop is compiled at its first call)
# a +, - or * expects ints and floats both: its result stays unboxed either
# way for a BINARY_OP or COMPARE_OP reading it, a tag saying which it is
# (specialize.NUMBER).  The same sites here see ints, floats, the two mixed,
# ints past one digit and past int64, bools, and operands that fail.
def number_chains(pairs):
    out = []
    for x, y in pairs:
        out.append((x * y + y) * (x - y))           # into +, then into *
        out.append((x + y) / (x - y + 0.5))         # into / (a float NUMBER may be 0.0)
        out.append((x * x + y * y) ** 0.5)          # into **
        out.append((x * y < x + y, x - y == y * 2)) # into compares
        out.append(((x + y) // 3, (x * y) % 5))     # int-only fast paths: a float goes generic
        out.append((x * 40000) * (y * 40000) + 1)   # past one digit, then past int64
        try:
            out.append((x * y) + (y + None))        # x * y waits unboxed below the failure
        except TypeError as e:
            out.append(str(e))
        try:
            out.append((x * y) / (x - x))
        except ZeroDivisionError as e:
            out.append(str(e))
    return repr(out)                # NaNs among the values: compared by repr


NUMBER_PAIRS = [(3, 4), (2.5, 2), (-7, 0.5), (1.5, -2.0), (0, 0), (2 ** 29, 3),
                (2 ** 40, 2), (True, 2), (1e308, 1e308), (float("nan"), 1),
                (-0.0, 0.0), (7, 7)]


def test_int_or_float_results_stay_unboxed_for_their_reader():
    from pyjion_clr import _specialize
    translator, _ = translated(number_chains)
    assert _specialize.NUMBER in {kind for _, kind in translator.unboxed_locals}
    # the interpreter's cached small ints and bools are counted by all code
    counted = [x for pair in NUMBER_PAIRS for x in pair
               if type(x) is float or type(x) is int and not -5 <= x <= 256]
    before = [sys.getrefcount(x) for x in counted]
    differential(number_chains, NUMBER_PAIRS)
    differential(number_chains, list(reversed(NUMBER_PAIRS)))
    gc.collect()
    assert [sys.getrefcount(x) for x in counted] == before


# A float result stored into a local is written into the float the local
# holds when nothing else refers to that object (no float made or freed).
# Whatever else holds the old value -- another local, a list, the caller's
# argument -- must keep seeing it; ints, mixed operands, an unbound local
# and a failing operation take the other paths.
def float_locals_updated(n, x, y, z):
    kept, alias = [], None
    d = 0.5
    for i in range(n):
        d = x - y * d           # the local's own float after the first round
        e = d * 2.0
        if i == 1:
            alias = d           # shared from here: a new float
            kept.append(e)      # the list holds e
        e = e + z
        fresh = e * e           # unbound before the first round
        d = d / z               # z == 0: ZeroDivisionError, d kept
    return d, e, fresh, alias, kept


def float_local_identities(n):
    # the interpreter makes a new float each round; compiled, the local's
    # float takes each new value
    d = 1.0
    objects = set()
    for i in range(n):
        d = d * 1.5
        objects.add(id(d))
    return d, len(objects)


@pytest.mark.parametrize("args", [
    (6, 2.5, 0.75, 0.5), (6, 3, 2, 5), (6, 2.5, 2, 1),      # floats, ints, mixed
    (6, 1.5, 0.5, 0.0), (6, 1.5, "ab", 1.0),                 # failing: / 0, str * float
    (6, float("inf"), 1e308, -0.0),
])
def test_float_locals_updated_in_place(args):
    # objects of their own: the literals above are shared -- the module's
    # constants, and a one-character str is the interpreter's singleton,
    # whose count anything in the process may move
    args = tuple(float(repr(a)) if type(a) is float else "".join(list(a)) if type(a) is str
                 else a for a in args)
    counted = [a for a in args[1:]]
    before = [sys.getrefcount(a) for a in counted]
    differential(float_locals_updated, *args)
    gc.collect()                # a traceback's frames hold the arguments
    assert [sys.getrefcount(a) for a in counted] == before


def test_float_local_takes_new_values_in_place():
    assert run_interpreted(float_local_identities, 20).value == (1.5 ** 20, 2)
    assert differential(float_local_identities, 1).value == (1.5, 1)
    assert run_compiled(fresh_copy(float_local_identities), 20).value == (1.5 ** 20, 1)


# `v[i] op= x` stores a float result left unboxed (past its two SWAPs)
# into the list item's own float when only the list refers to that object.
# Anything else holding the old value must keep seeing it; ints, a dict, a
# list subclass, a tuple, negative and out-of-range indices take the other
# paths.
class RecordingList(list):
    def __setitem__(self, index, value):
        super().__setitem__(index, ("set", value))


def list_items_updated(n, v, w, dt):
    v, w = _copied(v), _copied(w)       # each run updates its own
    kept = []
    for i in range(n):
        v[0] -= dt * w[0]               # the item's own float after the first round
        v[1] += dt * 2
        if i == 1:
            kept.append(v[0])           # shared from here: a new float
        v[-1] *= dt + 0.5               # a negative index: the helper
        w[i % len(w)] -= v[0] * dt      # w holds ints too
    return repr((v, w, kept))           # NaNs among the values: compared by repr


def list_item_failures(v, dt):
    v = _copied(v)
    out = []
    for index in (0, 5, "a", -9):
        try:
            v[index] -= dt * 2.0        # IndexError, TypeError: the value boxed
            out.append(v[index])
        except (IndexError, TypeError) as e:
            out.append((type(e).__name__, str(e)))
    return out


def list_item_identities(n):
    v = [1.0]
    objects = set()
    for i in range(n):
        v[0] *= 1.5
        objects.add(id(v[0]))
    return v[0], len(objects)


@pytest.mark.parametrize("args", [
    (6, [1.5, 2.5, 3.5], [0.25, 2, 3.0], 0.5), (6, [1, 2, 3], [4, 5, 6], 2),
    (6, [1.5, 2, 3.5], [0.25, 2, 3.0], 3), (4, {0: 1.5, 1: 2.5, -1: 0.5}, [1.0, 2.0], 0.25),
    (4, RecordingList([1.5, 2.5]), [1.0, 2.0], 0.5), (4, [1.5, "a", 2.0], [1.0], 0.5),
    (4, (1.5, 2.5), [1.0], 0.5), (5, [float("inf"), -0.0, 1e308], [1e308, 2.0], 1e10),
])
def test_float_results_stored_into_list_items_in_place(args):
    counted = [x for x in (args[1].values() if isinstance(args[1], dict) else args[1])
               if type(x) is float] + [x for x in args[2] if type(x) is float]
    before = [sys.getrefcount(x) for x in counted]
    differential(list_items_updated, *args)
    gc.collect()
    assert [sys.getrefcount(x) for x in counted] == before


def _copied(container):
    return type(container)(container)


def test_list_item_float_failures_and_identities():
    differential(list_item_failures, [1.5, 2.5], 0.5)
    differential(list_item_failures, [1, 2], 3)
    from pyjion_clr import _translate
    translator, _ = translated(list_items_updated)
    assert ("float" in {kind for _, kind in translator.unboxed_locals})
    assert run_interpreted(list_item_identities, 20).value == (1.5 ** 20, 2)
    assert run_compiled(fresh_copy(list_item_identities), 20).value == (1.5 ** 20, 1)


def int_waiting_across_a_yield(n):
    for i in range(n):
        total = i * 3 + (yield i * 5)
        yield total


def test_int_waiting_across_a_yield():
    def drive(make, n):
        gen = make(n)
        out = [next(gen)]
        for i in range(2 * n - 1):
            out.append(gen.send(i * 100))
        return out
    assert differential(drive, int_waiting_across_a_yield, 10).value[:4] == [0, 0, 5, 203]
    assert pyjion_clr.info(int_waiting_across_a_yield).compiled


# An int result left unboxed -- by BINARY_OP's one-digit path, by
# FOR_ITER over a range -- is written by STORE_FAST into the int its local
# holds when only the local refers to it and the value has one digit and
# is not one of the cached small ints.
# Whatever else holds the old value (another local, a list, a set, the
# caller's argument) must keep seeing it; values crossing the small ints,
# the one-digit limit, zero and the sign, and ranges of big ints, take the
# other paths.
def int_locals_updated(n, start, step, offset):
    kept, seen = [], set()
    alias = None
    total = offset
    k = j = None
    for i in range(start, start + n * step, step):
        total = total + i           # the local's own int after the first rounds
        k = i * 3 - offset          # crosses small ints, zero, the sign
        if i == start + step:
            alias = total           # shared from here: a new int
            kept.append(k)          # the list holds k
        seen.add(i)                 # and the set each i
        j = k
        k = k + 1                   # j holds the old k
    return total, k, j, alias, kept, sorted(seen), total is alias, j is k


def small_results_are_the_cached_ints(n):
    x = 300
    out = []
    for i in range(n):
        x = x - 20                  # 280, 260, 240 ... 0, -20 ...
        # int("40") is the cached 40 (x + 0: the list must not hold x)
        out.append((x + 0, x is int(str(x))))
    return out


def int_local_identities(n):
    x = 1000
    objects = set()
    for i in range(n):
        x = x + 7
        objects.add(id(x))
    return x, len(objects)


INT_ARGUMENTS = [
    (8, 0, 1, 0), (8, 250, 1, 700), (8, -8, 1, -20), (8, 10, -3, 30),
    (8, 2 ** 30 - 4, 1, 0), (8, -2 ** 30 + 3, -1, 5), (8, 2 ** 62, 2 ** 59, 1),
    (8, 2 ** 70, 1, 3), (4, 1000, 1000, -(2 ** 40)),
]


@pytest.mark.parametrize("args", INT_ARGUMENTS)
def test_int_locals_updated_in_place(args):
    # objects of their own, counted (not the cached small ints, whose
    # counts anything moves): the caller's ints keep values and references
    args = tuple(int(str(a)) for a in args)
    counted = [a for a in args if not -5 <= a <= 256]
    before = [(sys.getrefcount(a), a + 0) for a in counted]
    differential(int_locals_updated, *args)
    gc.collect()
    assert [(sys.getrefcount(a), a + 0) for a in counted] == before


def test_small_int_results_and_identities():
    assert (differential(small_results_are_the_cached_ints, 20).value
            == [(x, -5 <= x <= 256) for x in range(280, -120, -20)])
    assert run_interpreted(int_local_identities, 20).value[1] > 1
    assert run_compiled(fresh_copy(int_local_identities), 20).value == (1140, 1)
    assert "int" in {kind for _, kind in translated(int_local_identities)[0].unboxed_locals}


def mixed_number_locals(n, a, b):
    # without feedback a result is an int or a float (NUMBER): the local
    # holds an int, then a float, then an int again
    x = y = a
    out = []
    for i in range(n):
        x = x + b
        y = y * 3 - i
        if i == 3:
            b = 0.5
        elif i == 6:
            b, x = 7, int(x)
        out.append((x, y))
    return out


@pytest.mark.parametrize("args", [(10, 1000, 3), (10, 2 ** 29, -2 ** 29), (10, 1.5, 3)])
def test_int_and_float_results_share_a_local(args):
    differential(mixed_number_locals, *args)


# The same for an attribute (an inline value, a __slots__ member) and a
# list item: written into the object there when only the owner refers to
# it.  Checked against the interpreter from what the owner holds after each
# call, with something else holding the old value now and then.
class Tally:
    def __init__(self, n, f):
        self.n, self.f, self.items = n, f, [n]


class SlottedTally:
    __slots__ = ("n", "f", "items")

    def __init__(self, n, f):
        self.n, self.f, self.items = n, f, [n]


class TallyWithDict(Tally):
    def __init__(self, n, f):
        super().__init__(n, f)
        self.__dict__["extra"] = 1          # a dict made: the helper's paths


def bump(obj, k):
    obj.n += k
    obj.f *= 1.5
    obj.items[0] -= k


def bump_rounds(bump, cls, n, ks):
    obj = cls(n, 0.5)
    out, kept, ids = [], [], set()
    for i, k in enumerate(ks):
        bump(obj, k)
        out.append(repr((obj.n, obj.f, obj.items)))
        if i > 2:
            ids.add((id(obj.n), id(obj.f), id(obj.items[0])))
        if i == 2:
            kept.append((obj.n, obj.f, obj.items[0]))     # shared from here
    return out, repr(kept), len(ids)


BUMPS = [3, 300, -600, 2 ** 30, -(2 ** 30), 5, 0.5, 2, 1]


@pytest.mark.parametrize("cls", [Tally, SlottedTally, TallyWithDict])
@pytest.mark.parametrize("n", [1000, 250, -2 ** 29])
def test_attributes_and_items_updated_in_place(cls, n):
    compiled = warmed_copy(bump, cls(7, 0.5), 1)
    plain = run_interpreted(bump_rounds, bump, cls, n, BUMPS).value
    got = run_compiled(bump_rounds, compiled, cls, n, BUMPS).value
    assert got[:2] == plain[:2]


def test_attribute_ints_keep_their_object():
    compiled = warmed_copy(bump, Tally(7, 0.5), 1)
    # after round 2 (kept), n stays one int, f one float, the item one int;
    # the interpreter makes new ones (two addresses in turn)
    assert run_compiled(bump_rounds, compiled, Tally, 1000, [1] * 8).value[2] == 1
    assert pyjion_clr.info(compiled).compiled_calls > 8
    assert run_interpreted(bump_rounds, bump, Tally, 1000, [1] * 8).value[2] > 1


def computed_subscripts(n, seq):
    # `seq[i + k]`: the index an int left unboxed for BINARY_SUBSCR; a
    # negative one counts from the end, one out of range raises, other
    # containers (a dict, a str, a range) and indices past one digit take
    # the helper
    out = []
    for i in range(n):
        for k in (1, -1, -2 * n, 2 ** 30, -(2 ** 30) - 1):
            try:
                out.append(seq[i + k])
            except (IndexError, KeyError, TypeError) as e:
                out.append((type(e).__name__, str(e)))
        out.append(seq[i * 2 - i])
    return out


@pytest.mark.parametrize("seq", [
    list(range(10, 20)), tuple("abcdefghij"), b"0123456789", "klmnopqrst",
    {i: -i for i in range(-3, 12)}, range(5, 15), [1.5] * 10,
])
def test_computed_subscripts(seq):
    differential(computed_subscripts, 6, seq)
