"""The JIT API: how the frame hook talks to a compiler.

A backend turns one code object into native code that can run a frame of it.
It is registered by name; `pyjion_clr.enable(backend=NAME)` selects one, and
the CoreCLR backend is the default.

What a backend receives: `compile(code)` is called with a code object that
is hot (see `config(threshold=...)`), at most once per code object, on the
thread that is about to run it, with the hook disabled for everything the
backend itself runs.

What it returns: a `CompiledCode` whose `entry` is the address of a native
function

    PyObject *entry(PyThreadState *tstate, _PyInterpreterFrame *frame, int throwflag)

that runs the frame to completion and returns a new reference, or NULL with
an exception set, exactly as `_PyEval_EvalFrameDefault` would.  The hook links
the frame into the thread's frame stack and checks the recursion limit
before calling it.  `keepalive` is held until the code object dies, then
passed to the backend's `release(keepalive)`: whatever the entry point needs
(a delegate, a code buffer) must stay alive until then.  Keep it small and
flat (an int is ideal): a program may compile thousands of functions, and
tests of CPython itself count the objects the collector sees.

A backend may also offer `listing(code) -> str`, a readable listing of what
it generates for `code` (used by `pyjion_clr.dis`); it is produced on demand
rather than kept, since a program may compile thousands of functions.

How it reports failure: raise `Unsupported(reason)` for code it does not
handle, any other exception for a failed compile.  Either way the code runs
in the interpreter from then on, and the reason shows in `pyjion_clr.info()`
-- unless `Unsupported(reason, retry_after_calls=N)` asks to be offered the
code again once it has run N more times in the interpreter (code worth its
compile time only if hot).
"""

# No dataclasses or typing here: they import inspect, ast, dis and more, a few
# thousand objects that every full collection of the cyclic GC would walk in
# programs that never import them.


class Unsupported(Exception):
    """The backend leaves this code to the interpreter (not an error).
    With retry_after_calls > 0, only for now: it is offered again once it
    has been called that many more times (code worth compiling only if
    hot)."""

    def __init__(self, reason, retry_after_calls=0):
        super().__init__(reason)
        self.retry_after_calls = retry_after_calls


class BackendUnavailable(Exception):
    """The backend cannot compile anything in this process (e.g. no runtime)."""


class CompiledCode:
    """What `compile` returns.  `direct_entry` (optional): an entry point the
    backend's own compiled code calls for calls between compiled functions,
    with the callee's frame pushed and linked by the caller (CoreCLR: the
    method's managed entry point); the hook never calls it, it only hands it
    to compiled code.  `runtime_start_ms`: the part of this compile spent
    starting the runtime."""

    __slots__ = ("entry", "keepalive", "direct_entry", "il_bytes", "native_bytes",
                 "runtime_start_ms")

    def __init__(self, entry, keepalive, direct_entry=None, il_bytes=None,
                 native_bytes=None, runtime_start_ms=0.0):
        self.entry = entry
        self.keepalive = keepalive
        self.direct_entry = direct_entry
        self.il_bytes = il_bytes
        self.native_bytes = native_bytes
        self.runtime_start_ms = runtime_start_ms

    def __repr__(self):
        return "CompiledCode(%s)" % ", ".join(
            "%s=%r" % (name, getattr(self, name)) for name in self.__slots__)


class Backend:
    """Base class documenting the interface; backends need not inherit it."""

    name = "abstract"

    def compile(self, code) -> CompiledCode:
        raise NotImplementedError

    def listing(self, code) -> str:
        return "no listing available from backend %r" % self.name

    def release(self, keepalive) -> None:
        """The code object compiled into `keepalive` has died.  Called from
        a deallocation: do not call into a foreign runtime from here."""

    def shutdown(self) -> None:
        """Called at interpreter exit, before the backend's runtime goes away:
        no entry point is called after this."""


_registry = {}      # name -> factory making the backend
_instances = {}     # name -> the backend, made on first use


def register(name: str, factory) -> None:
    """Make a backend available under `name` (created lazily on first use)."""
    _registry[name] = factory
    _instances.pop(name, None)


def available():
    return sorted(_registry)


def get(name: str) -> Backend:
    if name not in _registry:
        raise ValueError("unknown backend %r (available: %s)" % (name, ", ".join(available())))
    inst = _instances.get(name)
    if inst is None:
        inst = _instances[name] = _registry[name]()
    return inst


def _coreclr_factory():
    from .coreclr import CoreCLRBackend
    return CoreCLRBackend()


register("coreclr", _coreclr_factory)
DEFAULT = "coreclr"
