"""The compile driver: what the frame hook calls when a code object is hot.

It asks the selected backend for native code, records the outcome for
`info()` and `stats()`, and never lets an exception escape: whatever goes
wrong, the code runs in the interpreter.
"""

import os
import sys
import time
from _thread import RLock     # not threading: importing pyjion_clr stays cheap
from collections import Counter

from . import backends

# Programs may replace builtins while we compile: use the import-time ones.
_isinstance, _type, _getattr = isinstance, type, getattr

_backend_name = backends.DEFAULT
_totals = {"compiled": 0, "recompiled": 0, "compile_seconds": 0.0, "runtime_start_seconds": 0.0,
           "first_compiled_seconds": None}
_fallbacks = Counter()
_compile_times = []
# One compile at a time: starting the runtime releases the GIL, and the
# backends are not written to be re-entered from another thread.
_lock = RLock()


# What happened when a code object was handed to the JIT.  A flat tuple of
# atomic values: the collector stops tracking it, so compiling leaves no
# objects behind for it to see.
RECORD_FIELDS = ("name", "backend", "compiled", "reason", "compile_ms", "il_bytes", "native_bytes",
                 "recompiled")


def _record(name, backend, compiled=False, reason=None, compile_ms=None, il_bytes=None,
            native_bytes=None, recompiled=False):
    return (name, backend, compiled, reason, compile_ms, il_bytes, native_bytes, recompiled)


def select_backend(name):
    global _backend_name
    backends.get(name)      # validates the name
    _backend_name = name


def backend_name():
    return _backend_name


def _fallback_reason(exc):
    if _isinstance(exc, backends.Unsupported):
        return "unsupported: %s" % exc
    if _isinstance(exc, backends.BackendUnavailable):
        return "backend unavailable: %s" % exc
    return "compile error: %s: %s" % (_type(exc).__name__, exc)


# Code compiled before the interpreter specialised any of it (a function
# with a loop is compiled at its first call) is compiled again with the
# interpreter's feedback after this many compiled calls: the hook then has
# the interpreter run it for a few calls (hook.c's profile_call).  Calls
# enough that a function run a few times, however long each call, is
# never interpreted again.
PROFILE_AFTER_CALLS = 100
# Generators and coroutines are left as first compiled: a suspended one
# resumes in the code it was made by.
_RESUMABLE = 0x20 | 0x80 | 0x100 | 0x200     # CO_GENERATOR, CO_COROUTINE,
                                             # CO_ITERABLE_COROUTINE, CO_ASYNC_GENERATOR


def _profile_after(code):
    """Compiled calls after which code is profiled and compiled again, or 0."""
    from ._bytecode import quickened    # loaded by the compile that just ran
    if code.co_flags & _RESUMABLE or quickened(code):
        return 0
    return PROFILE_AFTER_CALLS


def compile_code(code, recompile=False):
    """Hook callback: (entry address or 0, direct entry address or 0,
    (backend, keep-alive) or None, record, calls to wait before offering
    the code again or 0, compiled calls after which to profile it and
    compile it again or 0).  recompile: the code runs compiled already
    (this compile uses the feedback profiling it collected); if it fails,
    the code stays as it was."""
    start = time.perf_counter()
    backend = _backend_name
    try:
        with _lock:
            result = backends.get(backend).compile(code)
    except BaseException as exc:   # noqa: B902 - a compile must never break the program
        if _isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        reason = _fallback_reason(exc)
        retry = _getattr(exc, "retry_after_calls", 0)
        if retry > 0 or recompile:
            # not a fallback: asked again if the code stays in use (the
            # hook counts the code waiting), or still compiled
            return (0, 0, None, _record(code.co_qualname, backend, reason=reason), retry, 0)
        _fallbacks[reason] += 1
        if os.environ.get("PYJION_CLR_DEBUG") and not _isinstance(exc, backends.Unsupported):
            sys.stderr.write("pyjion_clr: %s in %s (%s:%s)\n" % (
                reason, code.co_qualname, code.co_filename, code.co_firstlineno))
            import traceback
            traceback.print_exception(exc, file=sys.stderr)
        return (0, 0, None, _record(code.co_qualname, backend, reason=reason), 0, 0)
    # starting the .NET runtime (once per process) is not this function's compile
    runtime_start = result.runtime_start_ms / 1000.0
    _totals["runtime_start_seconds"] += runtime_start
    elapsed = time.perf_counter() - start - runtime_start
    if _totals["first_compiled_seconds"] is None:
        # what the first compiled call waited for: runtime start and compile
        _totals["first_compiled_seconds"] = time.perf_counter() - start
    _totals["recompiled" if recompile else "compiled"] += 1
    _totals["compile_seconds"] += elapsed
    _compile_times.append(elapsed)
    record = _record(code.co_qualname, backend, True, None, elapsed * 1000.0,
                     result.il_bytes, result.native_bytes, recompile)
    return (result.entry, result.direct_entry or 0, (backend, result.keepalive), record, 0,
            0 if recompile else _profile_after(code))


def release(handle):
    """Hook callback: the code compiled into handle = (backend, keepalive) died."""
    backend, keepalive = handle
    try:
        backends.get(backend).release(keepalive)
    except Exception:       # called from a deallocation: nowhere to report to
        pass


def listing(code, backend_name):
    with _lock:
        return backends.get(backend_name).listing(code)


def stats():
    times = sorted(_compile_times)
    return {
        "compiled": _totals["compiled"],
        "recompiled": _totals["recompiled"],
        "fallbacks": dict(_fallbacks),
        "fallback_total": sum(_fallbacks.values()),
        "compile_seconds": _totals["compile_seconds"],
        "runtime_start_seconds": _totals["runtime_start_seconds"],
        "first_compiled_seconds": _totals["first_compiled_seconds"],
        "median_compile_ms": times[len(times) // 2] * 1000.0 if times else None,
        "backend": _backend_name,
    }


def reset_stats():
    _totals.update(compiled=0, recompiled=0, compile_seconds=0.0, runtime_start_seconds=0.0,
                   first_compiled_seconds=None)
    _fallbacks.clear()
    _compile_times.clear()
