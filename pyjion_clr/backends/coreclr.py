"""The CoreCLR backend: CPython bytecode -> CIL (the native translator) ->
DynamicMethod -> RyuJIT -> native entry point.

The IL is built as bytes by the translator and handed to .NET in one call
(DynamicILInfo.SetCode); calling ILGenerator per instruction through
pythonnet would cost ~50 us each.  Every compiled method is a static
DynamicMethod with the signature of a frame evaluator, turned into a
delegate of one shared non-generic delegate type (defined once with
TypeBuilder) so Marshal.GetFunctionPointerForDelegate accepts it.  The
delegate is the keep-alive handle: when the code object dies, the hook drops
it and the method can be collected.
"""

import atexit
import itertools
import os
import time

from .. import _cil, _native, _translate, clr_host
from . import BackendUnavailable, CompiledCode, Unsupported

# Programs may replace builtins while we compile (CPython's test_dynamic swaps
# builtins.len): the compile path uses the ones from import time.
_len, _bytes, _dict, _next, _str = len, bytes, dict, next, str


class _Managed:
    """The .NET objects every compile needs, created once."""

    def __init__(self):
        import System
        from System import Array, Byte, Int32, IntPtr, Type
        from System.Reflection import (AssemblyName, BindingFlags, CallingConventions,
                                       MethodAttributes, MethodImplAttributes, TypeAttributes)
        from System.Runtime.CompilerServices import RuntimeHelpers
        from System.Reflection.Emit import (AssemblyBuilder, AssemblyBuilderAccess,
                                            DynamicMethod)
        from System.Runtime.InteropServices import GCHandle, Marshal

        self.IntPtr = IntPtr
        self.DynamicMethod = DynamicMethod
        self.ByteArray = Array[Byte]
        self.param_types = Array[Type]([IntPtr, IntPtr, Int32])
        self.copy_bytes = Marshal.Copy.Overloads[IntPtr, Array[Byte], Int32, Int32]
        self.function_pointer = Marshal.GetFunctionPointerForDelegate.Overloads[System.Delegate]
        self.GCHandle = GCHandle
        # RyuJIT compiles a DynamicMethod at its first call, where an
        # InvalidProgramException could not be caught: PrepareMethod on its
        # (internal) handle compiles it now, inside compile().
        import clr
        self.method_descriptor = clr.GetClrType(DynamicMethod).GetMethod(
            "GetMethodDescriptor", BindingFlags.NonPublic | BindingFlags.Instance)
        self.prepare_method = RuntimeHelpers.PrepareMethod.Overloads[System.RuntimeMethodHandle]

        assembly = AssemblyBuilder.DefineDynamicAssembly(
            AssemblyName("pyjion_clr.emitted"), AssemblyBuilderAccess.Run)
        self.module = assembly.DefineDynamicModule("pyjion_clr.emitted")
        builder = self.module.DefineType(
            "pyjion_clr.FrameEvaluator", TypeAttributes.Sealed | TypeAttributes.Public,
            System.MulticastDelegate)
        ctor = builder.DefineConstructor(
            MethodAttributes.RTSpecialName | MethodAttributes.HideBySig | MethodAttributes.Public,
            CallingConventions.Standard, Array[Type]([System.Object, IntPtr]))
        # Runtime only: pythonnet recurses forever on Runtime | Managed (and Managed is 0)
        ctor.SetImplementationFlags(MethodImplAttributes.Runtime)
        invoke = builder.DefineMethod(
            "Invoke", MethodAttributes.Public | MethodAttributes.HideBySig
            | MethodAttributes.NewSlot | MethodAttributes.Virtual,
            IntPtr, self.param_types)
        invoke.SetImplementationFlags(MethodImplAttributes.Runtime)
        self.delegate_type = builder.CreateType()

    def byte_array(self, data):
        data = _bytes(data)
        arr = self.ByteArray(_len(data))
        if data:
            self.copy_bytes(self.IntPtr(_native.bytes_address(data)), arr, 0, _len(data))
        return arr


class CoreCLRBackend:
    name = "coreclr"

    def __init__(self):
        self._managed = None
        self._target = None
        self._ids = itertools.count(1)
        self._alive = True
        self._released = []     # GCHandles of dead code, freed at the next compile

    def _ensure_runtime(self):
        if self._managed is None:
            if not clr_host.load():
                raise BackendUnavailable(clr_host.status()["error"])
            self._managed = _Managed()
            # registered after pythonnet's own handler, so it runs first
            atexit.register(self.shutdown)
            # a fork()ed child has no runtime threads: it keeps running the
            # compiled frames already on its stack, and interprets new ones
            os.register_at_fork(after_in_child=self.shutdown)
        if not self._alive:
            raise BackendUnavailable("the .NET runtime is shutting down")
        return self._managed

    def release(self, handle):
        self._released.append(handle)

    def _free_released(self, m):
        while self._released:
            m.GCHandle.FromIntPtr(m.IntPtr(self._released.pop())).Free()

    def shutdown(self):
        """At exit, before pythonnet unloads: no compiled code is called and
        nothing more is compiled from here on."""
        self._alive = False
        _native.set_backend_alive(False)
        _native.uninstall()

    def _translate(self, code):
        if self._target is None:
            self._target = _native.target_description()
        target = _dict(self._target)
        target.update(_native.code_facts(code))
        try:
            return _translate.translate(
                code, target, lambda count: _native.site_caches(code, count)), target
        except _translate.Unsupported as exc:
            raise Unsupported(_str(exc)) from None

    def listing(self, code):
        """The CIL for `code`, translated again: the translation is
        deterministic, so this is what the compiled method runs."""
        method, target = self._translate(code)
        return _cil.disassemble(method, _symbols(target))

    def compile(self, code):
        method, target = self._translate(code)
        started = time.perf_counter()
        first = self._managed is None
        m = self._ensure_runtime()
        runtime_start_ms = (time.perf_counter() - started) * 1000.0 if first else 0.0
        self._free_released(m)
        name = "pyjion$%s$%d" % (code.co_qualname, _next(self._ids))
        dm = m.DynamicMethod(name, m.IntPtr, m.param_types, m.module, True)
        info = dm.GetDynamicILInfo()
        # bound to the instance: pythonnet aborts on unbound overloads called with it
        token_for = info.GetTokenFor.Overloads[m.ByteArray]
        tokens = [token_for(m.byte_array(sig)) for sig in method.signatures]
        info.SetCode(m.byte_array(method.resolve(tokens)), method.max_stack)
        info.SetLocalSignature(m.byte_array(method.locals_signature))
        delegate = dm.CreateDelegate(m.delegate_type)
        m.prepare_method(m.method_descriptor.Invoke(dm, None))     # RyuJIT compiles here
        entry = m.function_pointer(delegate).ToInt64()
        # a GCHandle keeps the delegate (and through it the method) alive
        # until the code object dies; an int is all Python holds
        handle = m.GCHandle.ToIntPtr(m.GCHandle.Alloc(delegate)).ToInt64()
        return CompiledCode(
            entry=entry,
            keepalive=handle,
            il_bytes=_len(method.il),
            native_bytes=None,      # this runtime build exposes no per-method code size
            runtime_start_ms=runtime_start_ms,
        )


def _symbols(target):
    names = {addr: "&" + name for name, addr in target["helpers"].items()}
    names.update({target["py_true"]: "Py_True", target["py_false"]: "Py_False",
                  target["py_none"]: "Py_None", target["eval_breaker"]: "&eval_breaker"})
    return names
