"""Generators, coroutines and async generators run compiled: each test body
runs in the interpreter and compiled (harness.py), and every generator-like
code object the body defines must have run compiled too."""

import asyncio
import gc
import inspect
import sys
import types

import pytest

import pyjion_clr
from harness import differential, listing, run_compiled, run_interpreted

GENERATOR_FLAGS = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


def traceback_lines(exc, relative=False):
    """(function, line) of each traceback entry, the line counted from the
    function's first if relative."""
    tb, lines = exc.__traceback__, []
    while tb is not None:
        code = tb.tb_frame.f_code
        lines.append((code.co_name, tb.tb_lineno - (code.co_firstlineno if relative else 0)))
        tb = tb.tb_next
    return lines


def nested_generator_codes(code):
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            if const.co_flags & GENERATOR_FLAGS:
                yield const
            yield from nested_generator_codes(const)


def differential_generators(fn, *args):
    out = differential(fn, *args)
    codes = list(nested_generator_codes(fn.__code__))
    assert codes, "test body defines no generator"
    for code in codes:
        info = pyjion_clr.info(code)
        # a generator the body never resumed has nothing to compile
        if info.status != "cold":
            assert info.compiled, "%s: %r" % (code.co_name, info)
    return out


# ------------------------------------------------------------------ bodies
def send_and_return():
    def gen(n):
        total = 0
        for i in range(n):
            got = yield i
            if got is not None:
                total += got
        return total

    g = gen(4)
    seen = [next(g), g.send(10), g.send(20), next(g)]
    try:
        next(g)
    except StopIteration as stop:
        return seen, stop.value, inspect.getgeneratorstate(g)


def yield_from_and_values():
    def inner(k):
        got = yield k
        return (k, got)

    def outer():
        a = yield from inner(1)
        b = yield from inner(2)
        yield from [a, b]
        return "end"

    g = outer()
    return [next(g), g.send("x"), g.send("y"), next(g), next(g, "exhausted"), next(g, "again")]


def throw_and_close():
    log = []

    def gen():
        try:
            while True:
                try:
                    yield 1
                except ValueError as e:
                    log.append(("caught", str(e)))
                    yield "recovered"
        finally:
            log.append("finally")

    g = gen()
    next(g)
    log.append(g.throw(ValueError("v")))
    next(g)
    g.close()
    log.append(inspect.getgeneratorstate(g))
    return log


def throw_into_delegate_that_returns():
    def inner():
        try:
            yield 1
        except ValueError:
            return "handled"

    def outer():
        r = yield from inner()
        yield r
        yield "after"

    g = outer()
    return [next(g), g.throw(ValueError), next(g)]


def throw_before_start():
    def gen():
        yield 1

    g = gen()
    g.throw(KeyError("early"))


def error_inside_generator():
    def gen():
        yield 1
        {}["missing"]

    return list(gen())


def ignores_generator_exit():
    def gen():
        try:
            yield 1
        except GeneratorExit:
            pass
        yield 2         # the second close (at collection) ends it quietly

    g = gen()
    next(g)
    g.close()


def generator_expressions(n):
    squares = (i * i for i in range(n))
    nested = list(x + y for x in range(3) for y in (x, x + 1) if y % 2 == 0)
    return sum(squares), nested, any(i > n for i in range(n + 2)), max((i for i in []), default=-1)


def frame_of_suspended_generator():
    def gen(a):
        b = a * 2
        yield sys._getframe().f_lineno
        yield b

    g = gen(3)
    line = next(g)
    return line - g.gi_frame.f_code.co_firstlineno, g.gi_frame.f_locals, g.gi_suspended


def coroutines_driven_by_hand():
    class Ready:
        def __init__(self, value):
            self.value = value

        def __await__(self):
            sent = yield ("suspend", self.value)
            return sent

    async def add(a, b):
        x = await Ready(a)
        y = await Ready(b)
        return x + y

    async def main():
        return await add(1, 2) * 10

    coro = main()
    steps = [coro.send(None), coro.send(5)]
    try:
        coro.send(7)
    except StopIteration as stop:
        return steps, stop.value


def asyncio_program():
    async def worker(name, n):
        total = 0
        for i in range(n):
            await asyncio.sleep(0)
            total += i
        return name, total

    async def main():
        return await asyncio.gather(worker("a", 3), worker("b", 5))

    return asyncio.run(main())


def async_with_and_for():
    log = []

    class Manager:
        async def __aenter__(self):
            log.append("enter")
            return self

        async def __aexit__(self, *exc):
            log.append(("exit", exc[0].__name__ if exc[0] else None))
            return True

    class Counter:
        def __init__(self, n):
            self.i, self.n = 0, n

        def __aiter__(self):
            return self

        async def __anext__(self):
            if self.i >= self.n:
                raise StopAsyncIteration
            self.i += 1
            return self.i

    async def main():
        async with Manager():
            async for v in Counter(3):
                log.append(v)
            raise ValueError("swallowed by __aexit__")
        return log

    return asyncio.run(main())


def async_generators():
    async def agen(n):
        try:
            for i in range(n):
                got = yield i
                if got:
                    yield ("got", got)
                await asyncio.sleep(0)
        finally:
            await asyncio.sleep(0)

    async def main():
        out = [x async for x in agen(3)]
        g = agen(5)
        out.append(await g.__anext__())
        out.append(await g.asend("hello"))
        try:
            await g.athrow(ValueError("into agen"))
        except ValueError as e:
            out.append(str(e))
        await g.aclose()
        return out

    return asyncio.run(main())


def await_errors(kind):
    async def bad_await():
        await 5

    async def bad_async_for():
        async for _ in [1, 2]:
            pass

    async def bad_async_with():
        async with object():
            pass

    coro = {"await": bad_await, "for": bad_async_for, "with": bad_async_with}[kind]()
    coro.send(None)


def yield_from_coroutine_in_generator():
    async def coro():
        return 1

    def gen():
        c = coro()
        try:
            yield from c
        finally:
            c.close()

    return list(gen())


def resumed_by_compiled_code_many_times():
    # after the first resumption compiles them, compiled loops and `yield
    # from` resume these generators through their direct entry points
    def leaf(n):
        for i in range(n):
            yield i, sys._getframe(1).f_code.co_name
        return "leaf %d" % n

    def middle(n):
        r = yield from leaf(n)
        yield r
        return n

    def stop_inside():
        yield 1
        raise StopIteration("inside")

    def bad(n):
        yield n
        return 1 // (n - n)

    def chain(n):
        r = yield from bad(n)
        yield r

    def reenter():
        yield next(me)

    out = []
    for k in range(4):
        out.append(list(middle(k)))
        out.append(sum(i for i, _ in leaf(k + 2)))
        try:
            for v in stop_inside():
                out.append(v)
        except RuntimeError as e:
            out.append((str(e), repr(e.__cause__)))
        try:
            for v in chain(k):
                out.append(v)
        except ZeroDivisionError as e:
            out.append(traceback_lines(e, relative=True))
        me = reenter()
        try:
            for v in me:
                out.append(v)
        except ValueError as e:
            out.append(str(e))
        g = middle(3)
        out.append((next(g), g.send(None), g.throw(KeyError, "k") if False else None))
        g.close()
    return out


# set(g), tuple(g), any(g) and all(g) of a generator are taken by compiled
# code itself (FastPaths.consume_generator)
def consumed_by_builtins(n):
    data = list(range(n))
    out = [set(x % 3 for x in data), tuple(x * 2 for x in data if x > 1),
           any(x > n - 2 for x in data), all(x < n for x in data),
           any(x > n for x in data), all(x < 1 for x in data),
           set(x for x in ()), tuple(x for x in ()), any(x for x in ()), all(x for x in ())]
    out.append(tuple(x for x in ()) is tuple())
    return out


def consumers_stopping_early():
    out, log = [], []

    def logged(items):
        try:
            for item in items:
                log.append(("yield", item))
                yield item
        finally:
            log.append("closed")

    out.append(any(logged([0, 0, 3, 4])))           # stops at 3: closed when released
    out.append(all(logged([1, 0, 2])))
    out.append(list(log))

    class Truthy:
        def __init__(self, v):
            self.v = v

        def __bool__(self):
            log.append(("bool", self.v))
            if self.v == "bad":
                raise ValueError("no truth")
            return bool(self.v)

    out.append(any(Truthy(v) for v in (0, "", 5, 6)))
    for attempt in (lambda: any(Truthy(v) for v in (0, "bad", 1)),
                    lambda: all(Truthy(v) for v in (1, "bad", 0))):
        try:
            attempt()
        except ValueError as exc:
            out.append(str(exc))
    return out, log


def consumers_closing_quietly():
    """any() and all() stopping early release a generator the interpreter
    would close by raising GeneratorExit into it; where nothing in its
    frame can run code when released, compiled code releases the frame
    itself (gen_ops.h): the same objects freed, in the same order."""
    out, log = [], []

    class Logged:
        def __init__(self, v):
            self.v = v

        def __bool__(self):
            return bool(self.v)

        def __del__(self):
            log.append(("del", self.v))

    kept = [0, 0, 5, 6]
    out.append(any(x for x in kept))                # quiet: ints, an iterator of a kept list
    out.append(all(x for x in kept[1:]))            # the slice freed with the iterator: not quiet
    out.append(any(x > 1 for x in range(5)))        # a range iterator
    out.append(any(x for x in (0, 7, 8)))           # a tuple iterator of a constant
    out.append(any(Logged(v) for v in (0, 1, 2)))   # a local freed by the close runs __del__
    log.append("after any")
    out.append(all(x for x in [Logged(3), Logged(0), Logged(4)]))   # the list dies with the close
    log.append("after all")

    def with_handler(items):
        try:
            yield from items
        finally:
            log.append("finally")

    out.append(any(with_handler([0, 1, 2])))
    out.append(any(x for x in iter(kept)))          # the iterator a local of nobody else's
    out.append(kept)
    return out, log


def consumers_failing():
    out = []
    try:
        set([i] for i in range(2))                  # unhashable
    except TypeError as exc:
        out.append(str(exc))

    def failing(k):
        for i in range(k):
            if i == 2:
                raise KeyError(i)
            yield i

    for attempt in (lambda: set(failing(5)), lambda: tuple(failing(5)),
                    lambda: any(x > 10 for x in failing(5)), lambda: all(x < 10 for x in failing(5))):
        try:
            attempt()
        except KeyError as exc:
            out.append(exc.args)
    g = (x for x in range(4))
    next(g)
    out.append((set(g), set(g), tuple(g)))          # resumed, then exhausted
    out.append((set([1, 2]), tuple("ab"), any([0, 1]), all(iter([1, 0]))))   # not generators
    return out


def consumers_shadowed(n):
    def set(g):                                     # a local, not the builtin
        return ("mine", [*g])

    return set(x for x in range(n)), tuple(x for x in range(n))


def consumer_resumes_itself():
    def gen():
        yield 1
        yield set(me)                               # g is running: ValueError

    me = gen()
    try:
        return tuple(me)
    except ValueError as exc:
        return str(exc)


def consumer_errors_have_tracebacks():
    def deep(k):
        for i in range(k):
            yield 10 // (2 - i)

    try:
        tuple(deep(5))
    except ZeroDivisionError as exc:
        return traceback_lines(exc, relative=True)


class Node:
    """A binary tree whose __iter__ walks it by yield from alone: compiled
    with its native calls through thunks (translate.all_calls_through_thunks)."""
    def __init__(self, left, value, right):
        self.left, self.value, self.right = left, value, right

    def __iter__(self):
        if self.left:
            yield from self.left
        yield self.value
        if self.right:
            yield from self.right


class Falsy(Node):
    def __bool__(self):
        return False


class Broken(Node):
    def __bool__(self):
        raise ValueError("no truth in " + str(self.value))


def build_tree(lo, hi, kind=Node):
    if lo >= hi:
        return None
    mid = (lo + hi) // 2
    return kind(build_tree(lo, mid, kind), mid, build_tree(mid + 1, hi, kind))


def tree_walks(n):
    out = [list(build_tree(0, n)) == list(range(n)), sum(build_tree(0, n))]
    out.append(list(Node(Falsy(Node(None, 1, None), 2, None), 3, [4, 5])))
    walk = iter(build_tree(0, n))
    out.append([next(walk) for _ in range(3)])
    walk.close()
    try:
        list(Node(Node(Broken(None, 0, None), 1, None), 2, None))
    except ValueError as exc:
        out.append((str(exc), traceback_lines(exc)))
    return out


def test_tree_walking_generator_calls_through_thunks():
    assert differential(tree_walks, 40).describe()[0] == "value"
    assert pyjion_clr.info(Node.__iter__).compiled
    assert "thunk" in listing(Node.__iter__)


def labelled(source, tag):
    """A generator whose native calls outside its loop run once per
    generator while it is entered at every item: they go through thunks,
    and its method has no P/Invoke frame (bytecode.once_per_generator)."""
    prefix = str(tag) + ":"
    items = iter(source)
    for item in items:
        yield item
    yield prefix + "end"


def labelled_strings(source):
    """... one making a call at each item keeps its calls inline."""
    for item in source:
        yield str(item)


def labelled_walks(n):
    out = [list(labelled(range(n), "r")), list(labelled([1.5, "x", None], 7))]
    out.append(tuple(labelled_strings(range(n))))
    walk = labelled(iter(range(n)), "partial")
    out.append([next(walk), next(walk)])
    walk.close()
    for bad in (5, None):
        try:
            list(labelled(bad, "bad"))
        except TypeError as exc:
            out.append((str(exc), traceback_lines(exc)))
    return out


def test_generator_setup_calls_through_thunks():
    assert differential(labelled_walks, 30).describe()[0] == "value"
    assert pyjion_clr.info(labelled).compiled and pyjion_clr.info(labelled_strings).compiled
    assert "thunk" in listing(labelled)
    assert "thunk" not in listing(labelled_strings)


CASES = [
    (resumed_by_compiled_code_many_times, ()),
    (send_and_return, ()),
    (yield_from_and_values, ()),
    (throw_and_close, ()),
    (throw_into_delegate_that_returns, ()),
    (throw_before_start, ()),
    (error_inside_generator, ()),
    (ignores_generator_exit, ()),
    (generator_expressions, (6,)),
    (frame_of_suspended_generator, ()),
    (coroutines_driven_by_hand, ()),
    (asyncio_program, ()),
    (async_with_and_for, ()),
    (async_generators, ()),
    (await_errors, ("await",)),
    (await_errors, ("for",)),
    (await_errors, ("with",)),
    (yield_from_coroutine_in_generator, ()),
    (consumed_by_builtins, (6,)),
    (consumers_stopping_early, ()),
    (consumers_closing_quietly, ()),
    (consumers_failing, ()),
    (consumers_shadowed, (3,)),
    (consumer_resumes_itself, ()),
    (consumer_errors_have_tracebacks, ()),
]


@pytest.mark.parametrize("fn,args", CASES, ids=["%s%r" % (f.__name__, a) for f, a in CASES])
def test_generator_construct(fn, args):
    differential_generators(fn, *args)


def suspended_by_interpreter_resumed_compiled():
    """A generator the interpreter started is taken over at its next resume:
    compiled code continues from the frame state the interpreter left."""
    def gen():
        total = 0
        for i in range(6):
            total += yield i
        return total

    g = gen()
    first = [next(g), g.send(1)]      # interpreted: the JIT is off here
    return first, g


def test_interpreter_suspended_generator_resumes_compiled():
    plain_first, plain = run_interpreted(suspended_by_interpreter_resumed_compiled).value
    jit_first, jitted = run_interpreted(suspended_by_interpreter_resumed_compiled).value

    def finish(g):
        out = []
        try:
            while True:
                out.append(g.send(2))
        except StopIteration as stop:
            return out, stop.value

    expected = finish(plain)
    result = run_compiled(finish, jitted).value
    assert (jit_first, result) == (plain_first, expected)
    assert pyjion_clr.info(jitted.gi_code).compiled


def keeps_no_references(body, n):
    """Does body(n, payload), run compiled, leave payload's reference count
    as it found it (after a first run that fills caches)?"""
    payload = object()
    run_compiled(body, 10, payload)
    gc.collect()
    before = sys.getrefcount(payload)
    run_compiled(body, n, payload)
    gc.collect()
    return sys.getrefcount(payload) == before


def test_generators_consumed_by_builtins_do_not_leak():
    def gen(items):
        for item in items:
            yield item

    def consume(n, payload):
        for _ in range(n):
            set(gen([payload]))
            tuple(gen([payload, payload]))
            any(gen([0, payload, payload]))         # stops early
            all(gen([payload, None, payload]))
            try:
                set(gen([payload, [payload]]))      # unhashable
            except TypeError:
                pass

    assert keeps_no_references(consume, 1000)
    assert pyjion_clr.info(gen).compiled
    assert "consume_item" in listing(consume)


def test_generators_released_early_are_closed_quietly():
    """A generator expression any() stops early is closed without raising
    GeneratorExit into it (stats()["quiet_closes"]), keeping reference
    counts; one with a finalizer in its frame, or a try block, is closed by
    gen_close (its finally runs, differential cases above)."""
    def stop_early(n, payload):
        items = [0, payload, payload]
        for _ in range(n):
            any(x for x in items)
            all(x is not payload for x in items)

    before = pyjion_clr.stats()["quiet_closes"]
    assert keeps_no_references(stop_early, 1000)
    assert pyjion_clr.stats()["quiet_closes"] - before >= 2 * 1000


def test_generators_do_not_leak():
    def gen(items):
        for item in items:
            yield item

    def drain(n, payload):
        for _ in range(n):
            for _ in gen([payload, payload]):
                pass
            g = gen([payload])
            next(g)
            g.close()

    assert keeps_no_references(drain, 1000)
    assert pyjion_clr.info(gen).compiled


# ------------------------------------------- making the generator object
# With the JIT on, a generator function's call makes its object without the
# interpreter (generator_new.c): in place when compiled code calls it, by
# copying the pushed frame when the call reaches the frame hook (from C, or
# from interpreted code).  The object must be the interpreter's in every
# visible respect, and before it ever runs.

def _unstarted(g):
    """Everything observable about a generator-like object nobody resumed."""
    prefix = {"generator": "gi", "coroutine": "cr", "async_generator": "ag"}[type(g).__name__]
    frame = getattr(g, prefix + "_frame")
    return (type(g).__name__, g.__name__, g.__qualname__, getattr(g, prefix + "_running"),
            getattr(g, prefix + "_code").co_name, frame.f_back, frame.f_lasti, frame.f_lineno,
            {name: type(v).__name__ if name == ".0" else v for name, v in frame.f_locals.items()},
            frame.f_code is getattr(g, prefix + "_code"))


def objects_made_by_calls(seed):
    default = [seed]

    def gen(a, b=default):
        yield a, b

    async def coro(x):
        return x

    async def agen(x, *rest):
        yield x

    def with_cell(a):             # a cell first: the interpreter's path
        yield lambda: a

    def closure():                # free variables copied first
        yield seed, default

    made = [gen(1), gen(2, 3), coro(4), agen(5), agen(6, 7), with_cell(8)]      # compiled calls
    made += list(map(gen, [9, 10]))                                             # the hook's path
    made += [closure(), (x + seed for x in "ab")]
    made += list(map(lambda f: f(), [closure]))
    out = [_unstarted(g) for g in made]
    out.append(sys.getrefcount(default))
    out.append([next(made[0]), next(made[1]), next(made[7])])
    try:
        made[2].send(None)
    except StopIteration as stop:
        out.append(stop.value)
    try:
        made[4].asend(1).send(None)
    except TypeError as exc:      # a non-None first value
        out.append(str(exc))
    out.append(asyncio.run(made[3].__anext__()))
    out.append(next(made[5])())
    out.append([list(made[8]), list(made[9]), list(made[10])])
    for g in made:
        if hasattr(g, "close"):     # async generators: dropped unfinished
            g.close()
    del made, g
    out.append(sys.getrefcount(default))
    return out


def depth_at_which_generator_call_fails(limit):
    def gen():
        yield 1

    def down(n):
        try:
            g = gen()
        except RecursionError:
            return n
        return down(n + 1)        # g dropped on the way back

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    try:
        return down(0)
    finally:
        sys.setrecursionlimit(old)


def coroutine_origin_when_tracked():
    async def coro():
        return 1

    sys.set_coroutine_origin_tracking_depth(2)
    try:
        c = coro()
    finally:
        sys.set_coroutine_origin_tracking_depth(0)
    origin = c.cr_origin
    c.close()
    untracked = coro()
    out = (origin, untracked.cr_origin)
    untracked.close()
    return out


@pytest.mark.parametrize("fn,args", [
    (objects_made_by_calls, ("s",)),
    (depth_at_which_generator_call_fails, (150,)),
    (coroutine_origin_when_tracked, ()),
], ids=["objects", "recursion-limit", "coroutine-origin"])
def test_generator_objects_made_as_the_interpreter_makes_them(fn, args):
    out = differential(fn, *args)
    assert out.exc is None, out.exc


def test_made_generators_release_their_arguments():
    def gen(a, b):
        yield a

    def make_and_drop(n, payload):
        for _ in range(n):
            gen(payload, payload)             # never started
            list(map(gen, [payload]))         # through the hook, never started
            g = gen(payload, payload)
            next(g)

    assert keeps_no_references(make_and_drop, 500)
