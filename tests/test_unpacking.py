"""UNPACK_SEQUENCE straight into fast locals (FastPaths.unpack_into_locals,
ops.c): more than eight names, or sites the inline path does not serve, are
one call that does the stores.  Against the interpreter: values, errors and
their lines, the order in which old values are released (and what code run
then sees), and reference counts."""

import sys

import pytest

from harness import differential, warmed_copy, run_interpreted


class Noisy:
    """Logs, when freed, its name, and the line and bound names of the
    frame that freed it."""

    def __init__(self, name, log):
        self.name = name
        self.log = log

    def __del__(self):
        caller = sys._getframe(1)
        snapshot = caller.f_locals
        bound = sorted((k, getattr(v, "name", None)) for k, v in snapshot.items() if len(k) == 1)
        snapshot.clear()        # else the frame's cached snapshot keeps old values alive
        self.log.append((self.name, caller.f_code.co_name, caller.f_lineno, bound))


class NoisyIterable:
    """An iterable (not a tuple or list) that logs when it is freed."""

    def __init__(self, items, log):
        self.items = items
        self.log = log

    def __iter__(self):
        return iter(self.items)

    def __del__(self):
        self.log.append(("iterable", sys._getframe(1).f_lineno))


def nine_names(seqs):
    out = []
    for seq in seqs:
        seq = seq() if callable(seq) else seq       # a fresh iterator each run
        try:
            a, b, c, d, e, f, g, h, i = seq
            out.append((a, e, i))
        except (ValueError, TypeError) as exc:
            out.append((type(exc).__name__, str(exc), exc.__traceback__.tb_lineno))
    return out


def releases_in_the_interpreters_order():
    log = []
    a, b, c, d, e, f, g, h, i = [Noisy(n, log) for n in "abcdefghi"]
    (a, b, c, d, e,
     f, g, h, i) = [Noisy(n.upper(), log) for n in "abcdefghi"]
    (a, b, c, d, e,
     f, g, h, i) = NoisyIterable([Noisy(n + "2", log) for n in "abcdefghi"], log)
    (a, b, c, d, e,
     f, g, h, i) = tuple(range(9))
    return log


def rebinds_its_own_sequence():
    out = []
    for k in range(3):
        t = tuple(range(k, k + 9))
        t, b, c, d, e, f, g, h, i = t
        out.append((t, i))
    seq = list("abcdefghi")
    for _ in range(2):
        a, b, c, d, e, f, g, h, seq = seq if isinstance(seq, list) else list("jklmnopqr")
        out.append((a, seq))
    return out


def one_name_twice():
    out = []
    for t in [tuple(range(9)), list("abcdefghi")]:
        a, b, c, d, a, f, g, h, a = t
        out.append((a, b, h))
    return out


def reference_counts():
    items = [object() for _ in range(9)]
    t, l = tuple(items), list(items)
    for seq in (t, l, t, l, t):
        a, b, c, d, e, f, g, h, i = seq
    made = [(object(),) * 9 for _ in range(3)]
    for seq in made:
        a, b, c, d, e, f, g, h, i = seq
    return ([sys.getrefcount(x) for x in items], sys.getrefcount(t), sys.getrefcount(l),
            sys.getrefcount(made[0][0]), sys.getrefcount(made[2][0]))


def failing_iterator():
    def gen():
        yield from range(5)
        raise KeyError("midway")
    a = b = "before"
    try:
        (a, b, c, d, e,
         f, g, h, i) = gen()
    except KeyError as exc:
        return a, b, str(exc), exc.__traceback__.tb_lineno, exc.__traceback__.tb_next.tb_lineno


@pytest.mark.parametrize("fn, args", [
    (nine_names, ([tuple(range(9)), list("abcdefghi"), "abcdefghi", range(9),
                   (1, 2), list(range(12)), 5, lambda: iter(range(9)), {k: 0 for k in "abcdefghi"}],)),
    (releases_in_the_interpreters_order, ()),
    (rebinds_its_own_sequence, ()),
    (one_name_twice, ()),
    (reference_counts, ()),
    (failing_iterator, ()),
], ids=lambda v: getattr(v, "__name__", ""))
def test_unpacking_into_locals(fn, args):
    differential(fn, *args)


def test_a_site_the_inline_path_does_not_serve():
    # strings seen: the feedback says the tuple and list path does not
    # serve, so two names take the call too
    def pair(seq):
        x, y = seq
        return y + x

    warm = warmed_copy(pair, "ab")
    for make in (lambda: "cd", lambda: ("e", "f"), lambda: ["g", "h"], lambda: iter("ij")):
        assert warm(make()) == run_interpreted(pair, make()).value
    with pytest.raises(ValueError, match="too many values"):
        warm("abc")


def test_four_hundred_unpackings_compile():
    # pyperformance's unpack_sequence: a body of 4,800 instructions, too
    # large for RyuJIT's optimizer unless the stores are taken by the unpack
    body = "    a, b, c, d, e, f, g, h, i, j = t\n" * 400
    namespace = {}
    exec("def unpack_400(t):\n" + body + "    return a, j\n", namespace)
    for seq in (tuple(range(10)), list("abcdefghij")):
        differential(namespace["unpack_400"], seq)
