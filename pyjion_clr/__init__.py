"""pyjion_clr: a JIT for CPython 3.11 that compiles hot functions to CIL and
runs them as native code produced by .NET's RyuJIT.

    import pyjion_clr
    pyjion_clr.enable()          # from now on hot functions are compiled
    pyjion_clr.info(f)           # compiled? why not? calls, compile time, sizes
    pyjion_clr.dis(f)            # the CIL of the compiled method
    pyjion_clr.config(threshold=0)
    pyjion_clr.disable()
"""

import sys
import types

from . import _driver, _native, backends

__all__ = ["enable", "disable", "is_enabled", "config", "info", "dis", "stats", "JitInfo"]
__version__ = "0.1.0"

# Calls made in the interpreter first: 3.11 specialises a function's
# instructions from its ninth call, and the compiler reads what it chose
# (type feedback) to leave out fast paths the sites do not need.
DEFAULT_THRESHOLD = 10


def enable(backend=None):
    """Install the frame hook: from now on hot functions run compiled.
    Idempotent; safe at any depth of the stack (frames already running stay
    as they are)."""
    if backend is not None:
        if not isinstance(backend, str):
            raise TypeError("backend must be a backend name (str), not %s" % type(backend).__name__)
        _driver.select_backend(backend)
    _native.set_compiler(_driver.compile_code)
    _native.set_releaser(_driver.release)
    _native.install()


def disable():
    """Remove the frame hook; compiled code already on the stack finishes
    normally, new calls run in the interpreter.  Idempotent."""
    _native.uninstall()


def is_enabled():
    return _native.installed()


_OPTIONS = ("threshold", "backend")


def config(**options):
    """Read or change settings; returns the settings now in force.

    threshold: calls a function makes in the interpreter before it is
        compiled (0 = compile on the first call).  A function containing a
        loop is compiled on its first call whatever the threshold: without
        on-stack replacement, a loop that starts interpreted stays so.
    backend: name of the JIT backend (see pyjion_clr.backends.available()).
    """
    for key in options:
        if key not in _OPTIONS:
            raise TypeError("config() got an unknown option %r (known: %s)"
                            % (key, ", ".join(_OPTIONS)))
    if "threshold" in options:
        value = options["threshold"]
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("threshold must be an int, not %s" % type(value).__name__)
        if value < 0 or value > sys.maxsize // 2:
            raise ValueError("threshold must be between 0 and %d, got %d" % (sys.maxsize // 2, value))
    if "backend" in options:
        if not isinstance(options["backend"], str):
            raise TypeError("backend must be a str")
        _driver.select_backend(options["backend"])
    if "threshold" in options:
        _native.set_threshold(options["threshold"])
    return {"threshold": _native.get_threshold(), "backend": _driver.backend_name(),
            "enabled": _native.installed()}


_native.set_threshold(DEFAULT_THRESHOLD)


def _code_of(obj):
    if isinstance(obj, types.CodeType):
        return obj
    if isinstance(obj, types.MethodType):
        obj = obj.__func__
    if isinstance(obj, types.FunctionType):
        return obj.__code__
    raise TypeError("expected a function, method or code object, not %s" % type(obj).__name__)


class JitInfo:
    """What the JIT knows about one code object."""

    def __init__(self, code):
        status, cold_calls, compiled_calls, record = _native.code_state(code)
        fields = dict(zip(_driver.RECORD_FIELDS, record or ()))
        self.name = code.co_qualname
        self.status = status                # "cold", "compiled" or "interpreted"
        self.compiled = status == "compiled"
        self.interpreted_calls = cold_calls
        self.compiled_calls = compiled_calls
        self.reason = fields.get("reason")
        self.backend = fields.get("backend")
        self.compile_ms = fields.get("compile_ms")
        self.il_bytes = fields.get("il_bytes")
        self.native_bytes = fields.get("native_bytes")
        # compiled again, with the feedback the interpreter collected while
        # profiling it, after it ran compiled without (_driver.PROFILE_AFTER_CALLS)
        self.recompiled = bool(fields.get("recompiled"))
        self.code = code

    def __repr__(self):
        if self.compiled:
            return ("<JitInfo %s: %scompiled by %s in %.2f ms, %d IL bytes, %d compiled calls>"
                    % (self.name, "re" if self.recompiled else "", self.backend, self.compile_ms,
                       self.il_bytes, self.compiled_calls))
        if self.status == "interpreted":
            return "<JitInfo %s: interpreted (%s)>" % (self.name, self.reason)
        return "<JitInfo %s: not compiled yet (%d calls)>" % (self.name, self.interpreted_calls)


def info(obj):
    """JitInfo for a function, method or code object."""
    return JitInfo(_code_of(obj))


def dis(obj, file=None):
    """Print the CIL listing of a compiled function."""
    record = info(obj)
    if not record.compiled:
        text = "%s is not compiled (%s)" % (record.name, record.reason or record.status)
    else:
        text = _driver.listing(record.code, record.backend)
    print(text, file=file if file is not None else sys.stdout)


def stats():
    """Totals since start: functions compiled, fallbacks by reason, compile time,
    and how many calls ran compiled vs interpreted."""
    result = _driver.stats()
    result.update(_native.counters())
    return result


def load_ipython_extension(ipython):
    from .magic import load_ipython_extension as _load
    _load(ipython)
