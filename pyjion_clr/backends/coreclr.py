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
_len, _bytes, _dict, _next, _str, _type = len, bytes, dict, next, str, type


class _Managed:
    """What every compile needs on the .NET side, made once: the delegate type
    of compiled methods, and two managed entry points, `build` and `free`,
    reached through native function pointers.  A compile is one native call
    to `build` with the method's bytes: pythonnet creates no wrapper objects
    per compile (it keeps some of those alive for good), and one transition
    replaces a dozen reflective calls."""

    def __init__(self):
        import clr
        import System
        from System import Array, Boolean, Byte, Int32, IntPtr, Object, String, Type
        from System.Reflection import AssemblyName, BindingFlags, Module
        from System.Reflection.Emit import (AssemblyBuilder, AssemblyBuilderAccess,
                                            DynamicILInfo, DynamicMethod, OpCodes)
        from System.Runtime.CompilerServices import RuntimeHelpers
        from System.Runtime.InteropServices import GCHandle, Marshal

        def clr_type(t):
            return clr.GetClrType(t)

        assembly = AssemblyBuilder.DefineDynamicAssembly(
            AssemblyName("pyjion_clr.emitted"), AssemblyBuilderAccess.Run)
        self.module = assembly.DefineDynamicModule("pyjion_clr.emitted")
        intptr, int32 = clr_type(IntPtr), clr_type(Int32)
        frame_params = [intptr, intptr, int32]
        # compiled methods: nint Entry(nint tstate, nint frame, int throwflag)
        self.evaluator_type = _delegate_type(self.module, "FrameEvaluator", intptr, frame_params)
        build_params = [intptr, intptr, int32, int32, intptr, int32, intptr]
        builder_type = _delegate_type(self.module, "MethodBuilder", intptr, build_params)
        free_type = _delegate_type(self.module, "HandleFree", clr_type(System.Void), [intptr])

        # The builder's state, bound as its first argument: the calli
        # signature blobs (registered with every method, in this order, so
        # their tokens are known in advance), the evaluator delegate type,
        # the compiled methods' owner module, and a slot for the last error.
        signatures = _cil.all_signatures()
        state = [_byte_array(Array[Byte], s) for s in signatures]
        self.evaluator_slot = _len(state)
        state.append(self.evaluator_type)
        self.module_slot = _len(state)
        state.append(self.module)
        self.error_slot = _len(state)
        state.append(None)
        self.state = Array[Object](state)
        from System.Runtime.CompilerServices import CallConvSuppressGCTransition
        suppress_gc_transition = clr_type(CallConvSuppressGCTransition)
        self.signature_tokens = _check_signature_tokens(
            DynamicMethod, intptr, Array[Type](frame_params), self.module,
            Array[Byte], signatures, suppress_gc_transition)

        def method(name, params):
            return clr_type(DynamicILInfo).GetMethod(name, Array[Type](params))

        byte_ptr = clr_type(Byte).MakePointerType()
        flags = BindingFlags.NonPublic | BindingFlags.Instance
        calls = {
            "utf8": clr_type(Marshal).GetMethod("PtrToStringUTF8", Array[Type]([intptr])),
            "new_method": clr_type(DynamicMethod).GetConstructor(Array[Type]([
                clr_type(String), clr_type(Type), clr_type(Array[Type]), clr_type(Module),
                clr_type(Boolean)])),
            "il_info": clr_type(DynamicMethod).GetMethod("GetDynamicILInfo"),
            "token_for": method("GetTokenFor", [clr_type(Array[Byte])]),
            "type_token_for": method("GetTokenFor", [clr_type(System.RuntimeTypeHandle)]),
            "set_code": method("SetCode", [byte_ptr, int32, int32]),
            "set_locals": method("SetLocalSignature", [byte_ptr, int32]),
            "create_delegate": clr_type(DynamicMethod).GetMethod(
                "CreateDelegate", Array[Type]([clr_type(Type)])),
            # RyuJIT compiles a DynamicMethod at its first call, where an
            # InvalidProgramException could not be caught: PrepareMethod on
            # its (internal) handle compiles it inside build, in the try.
            "descriptor": clr_type(DynamicMethod).GetMethod("GetMethodDescriptor", flags),
            "prepare": clr_type(RuntimeHelpers).GetMethod(
                "PrepareMethod", Array[Type]([clr_type(System.RuntimeMethodHandle)])),
            "managed_entry": clr_type(System.RuntimeMethodHandle).GetMethod(
                "GetFunctionPointer", Array[Type]([])),
            "function_pointer": clr_type(Marshal).GetMethod(
                "GetFunctionPointerForDelegate", Array[Type]([clr_type(System.Delegate)])),
            "alloc": clr_type(GCHandle).GetMethod("Alloc", Array[Type]([clr_type(Object)])),
            "to_intptr": clr_type(GCHandle).GetMethod("ToIntPtr"),
            "from_intptr": clr_type(GCHandle).GetMethod("FromIntPtr"),
            "free": clr_type(GCHandle).GetMethod("Free"),
        }
        types = {"object[]": clr_type(Array[Object]), "byte[]": clr_type(Array[Byte]),
                 "Type": clr_type(Type), "Module": clr_type(Module),
                 "Exception": clr_type(System.Exception), "GCHandle": clr_type(GCHandle),
                 "DynamicMethod": clr_type(DynamicMethod), "DynamicILInfo": clr_type(DynamicILInfo),
                 "Delegate": clr_type(System.Delegate), "IntPtr": intptr,
                 "RuntimeMethodHandle": clr_type(System.RuntimeMethodHandle),
                 "CallConvSuppressGCTransition": suppress_gc_transition}

        build = DynamicMethod("pyjion$build", intptr, Array[Type]([types["object[]"]] + build_params),
                              self.module, True)
        _emit_builder(build.GetILGenerator(), OpCodes, calls, types, _len(signatures),
                      self.evaluator_slot, self.module_slot, self.error_slot, frame_params)
        free = DynamicMethod("pyjion$free", clr_type(System.Void), Array[Type]([intptr]),
                             self.module, True)
        _emit_free(free.GetILGenerator(), OpCodes, calls, types)
        self.trampoline_address = _direct_trampoline(self.module, intptr, frame_params)
        self.thunks, self.thunk_methods = _native_call_thunks(self.module, calls)
        # the delegates must stay alive as long as their pointers are used
        self.build_delegate = build.CreateDelegate(builder_type, self.state)
        self.free_delegate = free.CreateDelegate(free_type)
        pointer = Marshal.GetFunctionPointerForDelegate.Overloads[System.Delegate]
        self.build_address = pointer(self.build_delegate).ToInt64()
        self.free_address = pointer(self.free_delegate).ToInt64()

    def last_error(self):
        error = self.state[self.error_slot]
        self.state[self.error_slot] = None
        return "%s: %s" % (error.GetType().Name, error.Message) if error is not None else "unknown"


def _byte_array(array_type, data):
    arr = array_type(_len(data))
    for i, b in enumerate(data):
        arr[i] = b
    return arr


def _emitter(gen):
    """gen.Emit(opcode[, operand]) with the overload named by the operand's
    .NET type.  Left to pythonnet, an overload is found by trying each in
    turn, and the TypeError of every failed try stays alive for good (2,885
    exceptions at start-up, which every full collection of the cyclic GC
    would walk)."""
    import System
    from System.Reflection import ConstructorInfo, MethodInfo
    from System.Reflection.Emit import LocalBuilder, OpCode
    overloads = gen.Emit.Overloads
    bare = overloads[OpCode]
    # System.Byte and System.Int16 values are not Python ints: test them first
    by_operand = [(System.Byte, overloads[OpCode, System.Byte]),
                  (System.Int16, overloads[OpCode, System.Int16]),
                  (int, overloads[OpCode, System.Int32]),
                  (LocalBuilder, overloads[OpCode, LocalBuilder]),
                  (MethodInfo, overloads[OpCode, MethodInfo]),
                  (ConstructorInfo, overloads[OpCode, ConstructorInfo]),
                  (System.Type, overloads[OpCode, System.Type])]

    def emit(opcode, *operand):
        if not operand:
            return bare(opcode)
        for kind, overload in by_operand:
            if isinstance(operand[0], kind):
                return overload(opcode, operand[0])
        raise TypeError("no Emit overload for %r" % (operand[0],))
    return emit


def _delegate_type(module, name, return_type, param_types):
    """A non-generic delegate type (GetFunctionPointerForDelegate refuses
    generic ones), defined with TypeBuilder."""
    import System
    from System import Array, IntPtr, Type
    from System.Reflection import CallingConventions, MethodAttributes, MethodImplAttributes, TypeAttributes
    import clr
    builder = module.DefineType("pyjion_clr." + name, TypeAttributes.Sealed | TypeAttributes.Public,
                                System.MulticastDelegate)
    ctor = builder.DefineConstructor(
        MethodAttributes.RTSpecialName | MethodAttributes.HideBySig | MethodAttributes.Public,
        CallingConventions.Standard, Array[Type]([clr.GetClrType(System.Object), clr.GetClrType(IntPtr)]))
    # Runtime only: pythonnet recurses forever on Runtime | Managed (and Managed is 0)
    ctor.SetImplementationFlags(MethodImplAttributes.Runtime)
    invoke = builder.DefineMethod(
        "Invoke", MethodAttributes.Public | MethodAttributes.HideBySig
        | MethodAttributes.NewSlot | MethodAttributes.Virtual,
        return_type, Array[Type](param_types))
    invoke.SetImplementationFlags(MethodImplAttributes.Runtime)
    return builder.CreateType()


# the signature type names of native/cil.pyx as System types
_CLR_TYPE_NAMES = {"void": "Void", "i4": "Int32", "i8": "Int64", "r8": "Double", "i": "IntPtr"}


def _native_call_thunks(module, calls):
    """For each unmanaged cdecl signature, a method taking its arguments and
    then a function's address, which it calls (cil.thunk_signature): their
    managed entry points by signature, and the methods, kept alive."""
    import clr
    import System
    from System import Array, Type
    from System.Reflection.Emit import DynamicMethod, OpCode, OpCodes
    from System.Runtime.InteropServices import CallingConvention

    def clr_type(name):
        return clr.GetClrType(getattr(System, _CLR_TYPE_NAMES[name]))

    thunks, methods = {}, []
    for signature, ret_name, param_names in _cil.thunked_signatures():
        ret = clr_type(ret_name)
        params = [clr_type(name) for name in param_names]
        dm = DynamicMethod("pyjion$thunk", ret, Array[Type](params + [clr_type("i")]),
                           module, True)
        gen = dm.GetILGenerator()
        emit = _emitter(gen)
        for i in range(_len(params) + 1):
            emit(OpCodes.Ldarg, System.Int16(i))
        unmanaged_calli = gen.EmitCalli.Overloads[OpCode, CallingConvention, Type, Array[Type]]
        unmanaged_calli(OpCodes.Calli, CallingConvention.Cdecl, ret, Array[Type](params))
        emit(OpCodes.Ret)
        handle = calls["descriptor"].Invoke(dm, None)
        calls["prepare"].Invoke(None, Array[System.Object]([handle]))
        thunks[signature] = handle.GetFunctionPointer().ToInt64()
        methods.append(dm)
    return thunks, methods


def _direct_trampoline(module, intptr, frame_params):
    """Native address of   nint Enter(nint tstate, nint frame, int throwflag,
    nint managed_entry) => calli managed_entry(tstate, frame, throwflag):
    one method marked UnmanagedCallersOnly, through which the hook enters
    every compiled method.  Cheaper than each method's delegate stub
    (GetFunctionPointerForDelegate), which DynamicMethods cannot avoid as
    they take no attributes."""
    import clr
    from System import Array, Object, Type
    from System.Reflection import CallingConventions, MethodAttributes, TypeAttributes
    from System.Reflection.Emit import CustomAttributeBuilder, OpCode, OpCodes
    from System.Runtime.InteropServices import UnmanagedCallersOnlyAttribute
    builder = module.DefineType("pyjion_clr.Trampoline", TypeAttributes.Public
                                | TypeAttributes.Abstract | TypeAttributes.Sealed)
    enter = builder.DefineMethod("Enter", MethodAttributes.Public | MethodAttributes.Static,
                                 intptr, Array[Type](frame_params + [intptr]))
    attribute = clr.GetClrType(UnmanagedCallersOnlyAttribute).GetConstructor(Type.EmptyTypes)
    enter.SetCustomAttribute(CustomAttributeBuilder(attribute, Array[Object]([])))
    gen = enter.GetILGenerator()
    emit = _emitter(gen)
    for load in (OpCodes.Ldarg_0, OpCodes.Ldarg_1, OpCodes.Ldarg_2, OpCodes.Ldarg_3):
        emit(load)
    calli = gen.EmitCalli.Overloads[OpCode, CallingConventions, Type, Array[Type], Array[Type]]
    calli(OpCodes.Calli, CallingConventions.Standard, intptr, Array[Type](frame_params), None)
    emit(OpCodes.Ret)
    created = builder.CreateType()
    return created.GetMethod("Enter").MethodHandle.GetFunctionPointer().ToInt64()


def _check_signature_tokens(DynamicMethod, return_type, param_types, module, byte_array,
                            signatures, suppress_gc_transition):
    """The tokens DynamicILInfo.GetTokenFor gives the signatures when they are
    registered, in order, with a new method right after the type that leaf
    signatures name (its token is baked into them): a method's token scope
    starts the same way every time, so they are learnt once here, by doing
    what the builder does, and compiled IL carries them without a round
    trip."""
    from System import RuntimeTypeHandle
    dm = DynamicMethod("pyjion$probe", return_type, param_types, module, True)
    info = dm.GetDynamicILInfo()
    type_token = info.GetTokenFor.Overloads[RuntimeTypeHandle](suppress_gc_transition.TypeHandle)
    if type_token != _cil.SUPPRESS_GC_TRANSITION_TOKEN:
        raise BackendUnavailable("unexpected type token from DynamicILInfo: %#x" % type_token)
    token_for = info.GetTokenFor.Overloads[byte_array]
    tokens = [token_for(_byte_array(byte_array, s)) for s in signatures]
    expected = [tokens[0] + i for i in range(_len(signatures))]
    if tokens != expected or tokens[0] >> 24 != 0x11:
        raise BackendUnavailable("unexpected signature tokens from DynamicILInfo: %r" % tokens)
    return {sig: tok for sig, tok in zip(signatures, tokens)}


def _emit_builder(gen, OpCodes, calls, types, n_signatures, evaluator_slot, module_slot,
                  error_slot, frame_params):
    """IL of   nint build(object[] state, nint name, nint il, int il_len,
                          int max_stack, nint locals, int locals_len, nint* out)
    new DynamicMethod(name, nint, [nint, nint, int], module, skipVisibility),
    its signatures registered, code and locals set, compiled by RyuJIT, a
    delegate made and pinned by a GCHandle written to out[0], the method's
    managed entry point to out[1]; returns the delegate's native entry
    point, or 0 with the exception in state."""
    from System import Byte
    emit = _emitter(gen)
    dm = gen.DeclareLocal(types["DynamicMethod"])
    info = gen.DeclareLocal(types["DynamicILInfo"])
    delegate = gen.DeclareLocal(types["Delegate"])
    result = gen.DeclareLocal(types["IntPtr"])
    handle = gen.DeclareLocal(types["GCHandle"])
    failure = gen.DeclareLocal(types["Exception"])
    method_handle = gen.DeclareLocal(types["RuntimeMethodHandle"])

    def state_item(slot, cast):
        emit(OpCodes.Ldarg_0)
        emit(OpCodes.Ldc_I4, slot)
        emit(OpCodes.Ldelem_Ref)
        emit(OpCodes.Castclass, cast)

    gen.BeginExceptionBlock()
    emit(OpCodes.Ldarg_1)
    emit(OpCodes.Call, calls["utf8"])
    emit(OpCodes.Ldtoken, types["IntPtr"])
    emit(OpCodes.Call, types["Type"].GetMethod("GetTypeFromHandle"))
    emit(OpCodes.Ldc_I4, _len(frame_params))
    emit(OpCodes.Newarr, types["Type"])
    for i, t in enumerate(frame_params):
        emit(OpCodes.Dup)
        emit(OpCodes.Ldc_I4, i)
        emit(OpCodes.Ldtoken, t)
        emit(OpCodes.Call, types["Type"].GetMethod("GetTypeFromHandle"))
        emit(OpCodes.Stelem_Ref)
    state_item(module_slot, types["Module"])
    emit(OpCodes.Ldc_I4_1)
    emit(OpCodes.Newobj, calls["new_method"])
    emit(OpCodes.Stloc, dm)
    emit(OpCodes.Ldloc, dm)
    emit(OpCodes.Callvirt, calls["il_info"])
    emit(OpCodes.Stloc, info)
    # first the type leaf signatures name, then the signatures (see
    # _check_signature_tokens)
    emit(OpCodes.Ldloc, info)
    emit(OpCodes.Ldtoken, types["CallConvSuppressGCTransition"])
    emit(OpCodes.Callvirt, calls["type_token_for"])
    emit(OpCodes.Pop)
    for i in range(n_signatures):
        emit(OpCodes.Ldloc, info)
        state_item(i, types["byte[]"])
        emit(OpCodes.Callvirt, calls["token_for"])
        emit(OpCodes.Pop)
    emit(OpCodes.Ldloc, info)
    emit(OpCodes.Ldarg_2)
    emit(OpCodes.Ldarg_3)
    emit(OpCodes.Ldarg_S, Byte(4))
    emit(OpCodes.Callvirt, calls["set_code"])
    emit(OpCodes.Ldloc, info)
    emit(OpCodes.Ldarg_S, Byte(5))
    emit(OpCodes.Ldarg_S, Byte(6))
    emit(OpCodes.Callvirt, calls["set_locals"])
    emit(OpCodes.Ldloc, dm)
    state_item(evaluator_slot, types["Type"])
    emit(OpCodes.Callvirt, calls["create_delegate"])
    emit(OpCodes.Stloc, delegate)
    emit(OpCodes.Ldloc, dm)
    emit(OpCodes.Call, calls["descriptor"])
    emit(OpCodes.Stloc, method_handle)
    emit(OpCodes.Ldloc, method_handle)
    emit(OpCodes.Call, calls["prepare"])
    # out[1]: the managed entry point, for calls from other compiled methods
    emit(OpCodes.Ldarg_S, Byte(7))
    emit(OpCodes.Ldc_I4_8)
    emit(OpCodes.Add)
    emit(OpCodes.Ldloca, method_handle)
    emit(OpCodes.Call, calls["managed_entry"])
    emit(OpCodes.Stind_I)
    emit(OpCodes.Ldloc, delegate)
    emit(OpCodes.Call, calls["function_pointer"])
    emit(OpCodes.Stloc, result)
    emit(OpCodes.Ldloc, delegate)
    emit(OpCodes.Call, calls["alloc"])
    emit(OpCodes.Stloc, handle)
    emit(OpCodes.Ldarg_S, Byte(7))
    emit(OpCodes.Ldloc, handle)
    emit(OpCodes.Call, calls["to_intptr"])
    emit(OpCodes.Stind_I)
    gen.BeginCatchBlock(types["Exception"])
    emit(OpCodes.Stloc, failure)
    emit(OpCodes.Ldarg_0)
    emit(OpCodes.Ldc_I4, error_slot)
    emit(OpCodes.Ldloc, failure)
    emit(OpCodes.Stelem_Ref)
    emit(OpCodes.Ldc_I4_0)
    emit(OpCodes.Conv_I)
    emit(OpCodes.Stloc, result)
    gen.EndExceptionBlock()
    emit(OpCodes.Ldloc, result)
    emit(OpCodes.Ret)


def _emit_free(gen, OpCodes, calls, types):
    """IL of   void free(nint handle): GCHandle.FromIntPtr(handle).Free()"""
    handle = gen.DeclareLocal(types["GCHandle"])
    emit = _emitter(gen)
    emit(OpCodes.Ldarg_0)
    emit(OpCodes.Call, calls["from_intptr"])
    emit(OpCodes.Stloc, handle)
    emit(OpCodes.Ldloca, handle)
    emit(OpCodes.Call, calls["free"])
    emit(OpCodes.Ret)


class CoreCLRBackend:
    name = "coreclr"

    def __init__(self):
        self._managed = None
        self._target = None
        self._ids = itertools.count(1)
        self._alive = True
        self._released = []     # GCHandles of dead code, freed at the next compile
        self._broken = None     # why the managed side could not be set up

    def _ensure_runtime(self):
        if self._managed is None:
            if self._broken is not None:
                raise BackendUnavailable(self._broken)
            # what the start-up leaves behind lives for good: out of the
            # cyclic collector's way (startup_objects.c)
            set_aside = _native.startup_objects_begin()
            try:
                self._managed = self._start_runtime()
            finally:
                if set_aside:
                    _native.startup_objects_end(self._managed is not None)
            _native.set_direct_trampoline(self._managed.trampoline_address)
            # registered after pythonnet's own handler, so it runs first
            atexit.register(self.shutdown)
            # a fork()ed child has no runtime threads: it keeps running the
            # compiled frames already on its stack, and interprets new ones
            os.register_at_fork(after_in_child=self.shutdown)
        if not self._alive:
            raise BackendUnavailable("the .NET runtime is shutting down")
        return self._managed

    def _start_runtime(self):
        if not clr_host.load():
            raise BackendUnavailable(clr_host.status()["error"])
        try:
            return _Managed()
        except Exception as exc:     # the runtime works but refuses our set-up: say why once
            self._broken = "setting up the managed builder failed: %s: %s" % (
                _type(exc).__name__, exc)
            raise BackendUnavailable(self._broken) from None

    def release(self, handle):
        self._released.append(handle)

    def _free_released(self, m):
        while self._released:
            _native.call_managed_free(m.free_address, self._released.pop())

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
            raise Unsupported(_str(exc), exc.retry_after_calls) from None

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
        name = ("pyjion$%s$%d" % (code.co_qualname, _next(self._ids))).encode("utf-8", "replace")
        il = method.resolve([m.signature_tokens[sig] for sig in method.signatures], m.thunks)
        entry, handle, direct_entry = _native.call_managed_builder(
            m.build_address, name, il, method.max_stack, method.locals_signature)
        if entry == 0:
            raise RuntimeError(m.last_error())
        return CompiledCode(
            entry=entry,
            direct_entry=direct_entry,
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
