"""Methods whose hot paths make no native call that switches the GC mode
need no P/Invoke frame, whose set-up costs every call of the method: their
other native calls go through thunks (cil.thunk_signature).  For that, a
call of a Python function the interpreter saw at a site runs through leaf
halves of the call helpers (ops.h), which decline whatever could run code;
truth tests ask their helper only for objects other than True, False,
None and exact ints, lists and tuples; raising is a cold path.  Each case
is warmed in the interpreter (so the sites have feedback), compiled, and
run again and again (the callees compiled and recorded by the sites)
beside the same calls interpreted: values, exceptions, the order of side
effects and reference counts must agree."""

import gc
import sys
import weakref

import pyjion_clr
from harness import _run, fresh_copy, listing, warmed_copy

LOG = []
REPEAT = 15         # enough calls for the callees to compile and be recorded


def outcomes(fn, cases, repeat):
    out = []
    for args in cases:
        for _ in range(repeat):
            LOG.clear()
            outcome = _run(fn, args, {})
            described = outcome.describe()
            del outcome                 # an exception's frames hold the arguments
            gc.collect()
            out.append((described, list(LOG)))
    return out


def agree(caller, warm_args, cases, repeat=REPEAT):
    """caller's outcomes on cases, interpreted and compiled after warming
    with warm_args, are the same; returns the compiled copy."""
    plain = fresh_copy(caller)
    pyjion_clr.disable()
    expected = outcomes(plain, cases, repeat)
    compiled = warmed_copy(caller, *warm_args)
    try:
        assert outcomes(compiled, cases, repeat) == expected
    finally:
        pyjion_clr.disable()
    return compiled


class Tracked:
    """Logs its own end: a finalizer that a leaf must never run."""

    def __init__(self, name):
        self.name = name

    def __del__(self):
        LOG.append("freed " + self.name)

    def __repr__(self):
        return "Tracked(%r)" % self.name

    def __eq__(self, other):
        return isinstance(other, Tracked) and other.name == self.name

    __hash__ = None

    def method(self, x):
        LOG.append("method of " + self.name)
        return x


def identity(x):
    LOG.append("identity")
    return x


def drop(x):
    LOG.append("drop")
    return 7


def add_floats(x):
    y = x * 2.5         # a float local, freed by the leaf
    z = y + 1
    return int(z)


def fails(x):
    return 1 // x


def drop_late(name):
    scale = len(name) * 1.5     # freed by the leaf's pass over the locals
    late = Tracked(name)        # ... which stops here: the full call frees it
    LOG.append("drop late %s" % scale)
    return 7


def call(f, a):
    return f(a)


def call_with_fresh(f, name):
    r = f(Tracked(name))        # the callee's frame holds its only reference
    LOG.append("returned")
    return r


def made_function(name):
    def made(x):
        LOG.append("made " + name)
        return x
    weakref.finalize(made, LOG.append, "function freed")
    return made


def call_made(maker, a):
    r = maker("m")(a)           # the function dies with the call
    LOG.append("returned")
    return r


HOLDER = Tracked("holder")
METHOD_REFS = []


def bound_with_weakref():
    m = HOLDER.method
    METHOD_REFS.append(weakref.ref(m, lambda ref: LOG.append("method freed")))
    return m


def call_bound(make, a):
    r = make()(a)               # the bound method's only reference is the stack's
    LOG.append("returned")
    return r


def test_calls_through_leaf_halves():
    compiled = agree(call, (identity, 1),
                     [(identity, 2), (drop, 3), (add_floats, 4), (add_floats, 2.5),
                      (fails, 1), (fails, 0), (len, "abc"), (Tracked, "built"),
                      (HOLDER.method, 5), (identity, Tracked("argument"))])
    text = listing(compiled)
    assert "call_recorded_leaf" in text and "call_recorded_return_leaf" in text
    # its other native calls are cold: no P/Invoke frame
    assert "thunk" in text


def test_leaf_returns_decline_what_could_run_code():
    agree(call_with_fresh, (identity, "warm"),
          [(identity, "kept"), (drop, "dropped"), (fails, "raised")])
    agree(call_made, (made_function, 1), [(made_function, 2)])
    agree(call_bound, (bound_with_weakref, 1), [(bound_with_weakref, 2)])
    # declined after releasing the locals before the one it stops at
    agree(call, (drop_late, "warm"), [(drop_late, "late"), (identity, "after")])


def test_leaf_calls_keep_reference_counts():
    arg = Tracked("counted")
    func = identity
    before = sys.getrefcount(arg), sys.getrefcount(func)
    compiled = warmed_copy(call, func, arg)
    try:
        for _ in range(REPEAT):
            assert compiled(func, arg) is arg
            assert compiled(drop, arg) == 7
    finally:
        pyjion_clr.disable()
    assert (sys.getrefcount(arg), sys.getrefcount(func)) == before
    assert "call_recorded_leaf" in listing(compiled)


class Truthy:
    def __init__(self, value):
        self.value = value

    def __bool__(self):
        LOG.append("bool %r" % (self.value,))
        if self.value is None:
            raise ValueError("no truth")
        return self.value


def truth_tested(a, b):
    if a:
        LOG.append("a")
    r = a or (not b and b)
    return r if b else (r, b)


class EmptyList(list):
    """Never true, whatever it holds: ob_size does not decide."""

    def __len__(self):
        LOG.append("len")
        return 0


def flags(a, b):
    return a or (not b and b)


def test_truth_tests_ask_their_helper_off_the_hot_path():
    values = [True, False, None, 0, 1, -1, 2**100, "", "x", [], [0], (), (0,), 0.0,
              EmptyList([1]), Truthy(True), Truthy(False), Truthy(None)]
    agree(truth_tested, (True, False),
          [(a, b) for a in values for b in (True, False, None, 2, Truthy(False))], repeat=2)
    compiled = agree(flags, (True, False), [(a, b) for a in values for b in values[:4]],
                     repeat=2)
    assert "thunk" in listing(compiled)


def raises_when(x, error):
    if x:
        raise error
    return x


def test_raising_is_a_cold_path():
    compiled = agree(raises_when, (0, ValueError),
                     [(0, ValueError), (1, ValueError), ("x", KeyError), (1, 5)], repeat=2)
    assert "thunk" in listing(compiled)
