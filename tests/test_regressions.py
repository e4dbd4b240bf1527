"""Minimal differential tests for bugs found by running CPython's own test
suite under the JIT; each names the CPython test that found it."""

import weakref

from harness import fresh_copy, run_compiled, run_interpreted


class _Obj:
    pass


class _Swallow:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return True


def _raise_with(obj):
    local_ref = obj  # noqa: F841 - kept alive by the traceback's frame
    raise ValueError(obj)


def _swallowed_in_with():
    obj = _Obj()
    wr = weakref.ref(obj)
    with _Swallow():
        _raise_with(obj)
    obj = None
    return wr() is None


# test_exceptions.testExceptionCleanupState: compiling a function while an
# exception was being handled let the compiler's own internal exceptions chain
# it as __context__ and keep it (and the callee's frame) alive.
def test_exception_swallowed_by_with_releases_callee_frame():
    assert run_interpreted(_swallowed_in_with).value is True
    assert run_compiled(fresh_copy(_swallowed_in_with)).value is True
