# cython: language_level=3
"""Bytecode -> CIL: the third stage of the translator.

Input: a code object, its Analysis (bytecode.py) and the target description
(_native.target_description(): struct offsets and the addresses of the
runtime helpers and singletons).  Output: a CilMethod (cil.py).

The generated method has the signature of a frame evaluator,
    nint Entry(nint tstate, nint frame, int32 throwflag)
and works on the real interpreter frame: fast locals and the value stack are
slots of frame->localsplus addressed at fixed offsets from the `frame`
argument, so helpers receive a stack pointer exactly as the interpreter's
opcodes do (see native/ops.h).  Stack depth at each instruction is static,
so each slot's offset is a constant.

Errors: every instruction that can fail branches to a stub for (handler,
depth); the stub calls `enter_handler` (traceback entry, unwind to the
handler's depth, push lasti and the exception) or `exit_with_error`.

Each opcode's translation is in exactly one place: HELPER_OPS for opcodes
that are a single helper call, an `op_NAME` method otherwise.
"""

from . import _bytecode as bytecode
from . import _cil as cil
from ._cil cimport ILBuilder
from ._bytecode import CO_ASYNC_GENERATOR, CO_COROUTINE, CO_GENERATOR
from ._specialize import (INLINE_CALLS, SIG_DEALLOC, NUMBER, UNBOXED_FORMS, FastPaths,
                          count_cached_sites)

# The backward jumps of loops (JUMP_BACKWARD_NO_INTERRUPT is yield from's
# and await's, each round of which suspends the code)
LOOP_JUMPS = frozenset(("JUMP_BACKWARD", "POP_JUMP_BACKWARD_IF_TRUE", "POP_JUMP_BACKWARD_IF_FALSE",
                        "POP_JUMP_BACKWARD_IF_NONE", "POP_JUMP_BACKWARD_IF_NOT_NONE"))

# RyuJIT compiles a method past any of these limits without optimizing it
# ("switched to MinOpts"; its DEFAULT_MIN_OPTS_* constants, fixed in release
# builds): such code runs slower than the interpreter, so it is left there.
# Keyed by the CilMethod.shape fields they bound.
MINOPTS_LIMITS = {"il_bytes": 60000, "instructions": 20000, "variable_refs": 8000,
                  "locals": 2000, "blocks": 2000}
MAX_OPTIMIZED_IL_BYTES = MINOPTS_LIMITS["il_bytes"]
# Code past a limit is translated again with fewer fast paths at sites
# without feedback, down to this many levels (FastPaths.unspecialised_kinds,
# FastPaths.inline_serves)
COMPACT_LEVELS = 4
# ... the last of them only for code called this often: the code that needs
# it is the largest (100-300 ms to compile), and much of that runs once, as
# argparse's parse loop does; its calls are counted in the interpreter.
LAST_LEVEL_MIN_CALLS = 50
# No instruction translates to less (a cheap early refusal of huge code),
# but a STORE_FAST that an UNPACK_SEQUENCE takes (least_il_bytes)
MIN_IL_BYTES_PER_INSTRUCTION = 16

# Status values returned by helpers (native/ops.h)
STATUS_RERAISE = -2

SIG_OP = cil.unmanaged_signature("i4", ["i", "i", "i4", "i"])
SIG_ENTER_HANDLER = cil.unmanaged_signature("i4", ["i", "i4", "i4", "i4", "i4"])
SIG_EXIT = cil.unmanaged_signature("void", ["i", "i4", "i4"])
SIG_EVAL_BREAKER = cil.unmanaged_signature("i4", ["i"])
# Helpers that may hand back a compiled callee (native/ops.h): NAME(frame,
# sp, oparg, aux, &callee) returns a status, or the callee's direct entry
# point (a compiled method: managed convention, no transition), which the
# caller runs before NAME_return(tstate, sp, oparg, callee, result).
SIG_DIRECT_CAPABLE = cil.unmanaged_signature("i", ["i", "i", "i4", "i", "i"])
SIG_DIRECT_RETURN = cil.unmanaged_signature("i4", ["i", "i", "i4", "i", "i"])
SIG_DIRECT_ENTRY = cil.managed_signature("i", ["i", "i", "i4"])
SIG_DIRECT_CAPABLE_LEAF = cil.unmanaged_leaf_signature("i", ["i", "i", "i4", "i", "i"])
SIG_DIRECT_RETURN_LEAF = cil.unmanaged_leaf_signature("i4", ["i", "i", "i4", "i", "i"])
DIRECT_NEXT = 0
DIRECT_BRANCH = 1
DIRECT_ERROR = 2
DIRECT_DECLINED = 3
# Direct-capable helpers whose common case runs no code: a leaf half that
# hands back the callee (or NULL: the helper's to do), and one that
# finishes after it (or declines: DIRECT_DECLINED) -- generator resumption
# to a yield, a call of a function the site recorded (ops.h).  A method
# whose only hot native calls are leaves needs no P/Invoke frame (see
# cil.thunk_signature).
LEAF_HALVES = frozenset(("for_iter", "send", "call_recorded"))
# call_recorded's leaf half may instead make the call itself, the result in
# place (a function that only returns an argument or a constant):
# direct_call.h's PYJ_CALL_MADE.
CALL_MADE = 1
# What the interpreter specialises a PRECALL of a Python function to.
PYTHON_CALLS = frozenset(("PYFUNC", "BOUND_METHOD"))


class Unsupported(Exception):
    """The code uses something this translator leaves to the interpreter
    (for now only, with retry_after_calls > 0: backends.Unsupported)."""

    def __init__(self, reason, retry_after_calls=0):
        super().__init__(reason)
        self.retry_after_calls = retry_after_calls


# opcode name -> (helper, inputs consumed when it fails)
# The stack effect comes from the analysis; a failing helper leaves
# depth_before - consumed values on the stack for the unwinder.
HELPER_OPS = {
    "MAKE_CELL": ("make_cell", 0),
    "DELETE_DEREF": ("delete_deref", 0),
    "LOAD_CLASSDEREF": ("load_classderef", 0),
    "STORE_GLOBAL": ("store_global", 1),
    "DELETE_GLOBAL": ("delete_global", 0),
    "LOAD_NAME": ("load_name", 0),
    "STORE_NAME": ("store_name", 1),
    "DELETE_NAME": ("delete_name", 0),
    "LOAD_BUILD_CLASS": ("load_build_class", 0),
    "DELETE_ATTR": ("delete_attr", 1),
    "DELETE_SUBSCR": ("delete_subscr", 2),
    "CONTAINS_OP": ("contains_op", 2),
    "LIST_APPEND": ("list_append", 1),
    "SET_ADD": ("set_add", 1),
    "MAP_ADD": ("map_add", 2),
    "LIST_EXTEND": ("list_extend", 1),
    "SET_UPDATE": ("set_update", 1),
    "DICT_UPDATE": ("dict_update", 1),
    "DICT_MERGE": ("dict_merge", 1),
    "LIST_TO_TUPLE": ("list_to_tuple", 1),
    "UNPACK_EX": ("unpack_ex", 1),
    "PUSH_EXC_INFO": ("push_exc_info", 0),
    "POP_EXCEPT": ("pop_except", 1),
    "CHECK_EXC_MATCH": ("check_exc_match", 1),
    "CHECK_EG_MATCH": ("check_eg_match", 1),
    "PREP_RERAISE_STAR": ("prep_reraise_star", 2),
    "IMPORT_STAR": ("import_star", 1),
    "WITH_EXCEPT_START": ("with_except_start", 0),
    "BEFORE_WITH": ("before_with", 0),
    "BEFORE_ASYNC_WITH": ("before_async_with", 0),
    "GET_YIELD_FROM_ITER": ("get_yield_from_iter", 1),
    "GET_AWAITABLE": ("get_awaitable", 1),
    "GET_AITER": ("get_aiter", 1),
    "GET_ANEXT": ("get_anext", 0),
    "ASYNC_GEN_WRAP": ("async_gen_wrap", 0),
    # StopAsyncIteration ends the loop (0); anything else is re-raised (-2)
    # with the exception popped and the async iterator still below it
    "END_ASYNC_FOR": ("end_async_for", 1),
    "IMPORT_NAME": ("import_name", 2),
    "IMPORT_FROM": ("import_from", 0),
    "GET_LEN": ("get_len", 0),
    "MATCH_MAPPING": ("match_mapping", 0),
    "MATCH_SEQUENCE": ("match_sequence", 0),
    "MATCH_KEYS": ("match_keys", 0),
    "MATCH_CLASS": ("match_class", 2),
    "PRINT_EXPR": ("print_expr", 1),
    "SETUP_ANNOTATIONS": ("setup_annotations", 0),
}

# Helpers whose inputs are all consumed on failure, with an oparg-dependent count.
_CONSUMED_BY_OPARG = {
    "BUILD_TUPLE": ("build_tuple", lambda a: a),
    "BUILD_LIST": ("build_list", lambda a: a),
    "BUILD_SET": ("build_set", lambda a: a),
    "BUILD_MAP": ("build_map", lambda a: 2 * a),
    "BUILD_CONST_KEY_MAP": ("build_const_key_map", lambda a: a + 1),
    "BUILD_STRING": ("build_string", lambda a: a),
    "BUILD_SLICE": ("build_slice", lambda a: a),
    "FORMAT_VALUE": ("format_value", lambda a: 2 if (a & 0x4) else 1),
    "MAKE_FUNCTION": ("make_function", lambda a: 1 + bin(a & 0xF).count("1")),
}

# BUILD_SLICE fused with the subscript after it: helper, and how many values
# below the slice's bounds it also takes (the container; the value stored)
_SLICE_SUBSCRIPTS = {"BINARY_SUBSCR": ("subscr_slice", 1),
                     "STORE_SUBSCR": ("store_subscr_slice", 2)}

# Deferred pushes (see Translator.defer): opcode -> values it takes from the
# stack, for the instructions that read a deferred value where it lives or
# take nothing (inputs_taken_in_place adds those that spill their own
# inputs).  Values below an instruction's inputs stay deferred across it:
# nothing it runs can write this frame's fast locals.  Every other
# instruction finds all its stack in the frame's slots.
_READS_DEFERRED = {"LOAD_FAST": 0, "LOAD_CONST": 0, "STORE_FAST": 1, "RETURN_VALUE": 1,
                   "BINARY_OP": 2, "COMPARE_OP": 2, "CONTAINS_OP": 2, "BINARY_SUBSCR": 2,
                   "STORE_SUBSCR": 3,
                   "LOAD_ATTR": 1, "STORE_ATTR": 2, "LOAD_METHOD": 1, "IS_OP": 2,
                   "STORE_DEREF": 1, "POP_TOP": 1, "COPY": 0, "SWAP": 0,
                   "UNPACK_SEQUENCE": 1,
                   # pushing only, they leave the values below where they are
                   "LOAD_GLOBAL": 0, "LOAD_DEREF": 0, "LOAD_CLOSURE": 0, "PUSH_NULL": 0,
                   "LOAD_ASSERTION_ERROR": 0, "NOP": 0, "RESUME": 0, "PRECALL": 0,
                   "KW_NAMES": 0,
                   "POP_JUMP_FORWARD_IF_TRUE": 1, "POP_JUMP_BACKWARD_IF_TRUE": 1,
                   "POP_JUMP_FORWARD_IF_FALSE": 1, "POP_JUMP_BACKWARD_IF_FALSE": 1,
                   "POP_JUMP_FORWARD_IF_NONE": 1, "POP_JUMP_BACKWARD_IF_NONE": 1,
                   "POP_JUMP_FORWARD_IF_NOT_NONE": 1, "POP_JUMP_BACKWARD_IF_NOT_NONE": 1}
# ... and those of them that also take an unboxed int or float where it is:
# opcode -> the kinds it takes so (the others get them boxed first)
_ANY_NUMBER = ("int", "float", NUMBER)
_READS_UNBOXED = {"BINARY_OP": _ANY_NUMBER, "COMPARE_OP": _ANY_NUMBER, "STORE_FAST": _ANY_NUMBER,
                  "STORE_SUBSCR": _ANY_NUMBER, "STORE_ATTR": _ANY_NUMBER,
                  "BINARY_SUBSCR": ("int",)}
# ... of which these have inline paths only under the forms of
# FastPaths.inline_serves
_INLINE_BY_FEEDBACK = frozenset(("BINARY_SUBSCR", "STORE_SUBSCR", "STORE_ATTR"))
# ... and these write it into the object stored before where they can
# (FastPaths.store_unboxed): only floats unless ints are written in place
_STORES_UNBOXED = frozenset(("STORE_FAST", "STORE_SUBSCR", "STORE_ATTR"))
# ... where only the input at this offset from the bottom of its inputs
# may be unboxed (the value stored, not the container, index or owner; the
# index read, `v[i + 1]`; a math function's argument)
_UNBOXED_INPUT = {"STORE_SUBSCR": 0, "STORE_ATTR": 0, "BINARY_SUBSCR": 1,
                  "CALL": 2}      # [NULL, math.sqrt, x] (math_function_call)


def inputs_taken_in_place(ins):
    """How many values ins takes from the top of the stack while those
    below stay deferred (None: it needs the whole stack in the slots).  A
    CALL and the builders of _CONSUMED_BY_OPARG spill their own inputs."""
    taken = _READS_DEFERRED.get(ins.name)
    if taken is not None:
        return taken
    if ins.name == "CALL":
        return ins.oparg + 2
    if ins.name in _CONSUMED_BY_OPARG:
        return _CONSUMED_BY_OPARG[ins.name][1](ins.oparg)
    return None


def is_generator(code):
    return bool(code.co_flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR))


def check_supported(code, target):
    if code.co_flags & CO_ASYNC_GENERATOR and not target["async_generators"]:
        raise Unsupported("async generator (wrapped-value type not found at start-up)")


class Translator(FastPaths):
    def __init__(self, code, analysis, target, compact=0, all_calls_through_thunks=False,
                 site_caches_inline=True, ints_in_place=True, leaf_halves=None):
        self.code = code
        self.compact = compact         # see FastPaths.unspecialised_kinds
        # calls try the helpers' leaf halves first (direct_capable_op); by
        # default not in compact code, where attempts may ask for them
        self.leaf_halves = not compact if leaf_halves is None else leaf_halves
        self.leaf_half_sites = 0       # sites given them
        # (CALL index, METH_* conventions) of the calls given a direct path
        # into a C function (FastPaths.c_function_call)
        self.direct_c_calls = []
        # (CALL index, callee name) of the calls given a fast path that
        # makes their result without the call (FastPaths.replaced_call:
        # math's functions computed by the C library function, range's
        # iterator made at once)
        self.replaced_calls = []
        # sites that check what the interpreter's cache says first
        # (FastPaths.uses_interpreter_cache) then search their own cache
        # inline, else in their helper (FastPaths.searches_site_cache); in
        # compact code, in the helper
        self.site_caches_inline = site_caches_inline and not compact
        # stores write an unboxed int into the int they replace
        # (FastPaths.store_unboxed, store_unboxed_into), and `x in lst`
        # searches a list of ints inline (op_CONTAINS_OP); not in compact
        # code, and left out first when code is too large (attempts)
        self.ints_in_place = ints_in_place and not compact
        # native calls that switch GC mode go through thunks
        # (cil.thunk_signature): those on cold paths, while no such call is
        # left in the body (calli_native); or all (see all_calls_through_thunks)
        self.all_calls_through_thunks = all_calls_through_thunks
        self.emitting_cold = False     # emitting cold or error paths
        self.body_native_calls = 0     # calls switching GC mode outside them
        self.a = analysis
        self.t = target
        self.helpers = target["helpers"]
        self.il = cil.ILBuilder()
        ptr = target["pointer_size"]
        self.ptr = ptr
        self.local_base = target["frame_localsplus"]
        self.stack_base = target["frame_localsplus"] + ptr * target["nlocalsplus"]
        self.units = target["code_units"]
        self.labels = {}               # bytecode index -> label
        self.error_stubs = {}          # (handler key or None, depth) -> label
        self.handler_entries = {}      # handler key -> label
        self.exit_label = self.il.new_label()
        self.kwnames = 0
        self.cold_paths = []           # (label, emit, resume, deferred, where): see cold()
        self.current_index = 0         # the instruction being emitted: see call_native
        self.current_ins = None        # ... and the one an error in a spill is raised at,
        self.current_depth = 0         # with this many values on the stack
        self.deferred = {}             # stack depth -> ("local", index), ("const", address),
                                       # ("int", None) or ("float", None): see defer()
        self.spill_stubs = {}          # (error stub, deferred values spilled) -> label
        # IL locals
        self.v_status = self.il.new_local("i4")
        self.v_errdepth = self.il.new_local("i4")
        self.v_t0 = self.il.new_local("i")
        self.v_t1 = self.il.new_local("i")
        self.v_cnt = self.il.new_local("i")
        self.v_callee = self.il.new_local("i")
        self.v_result = self.il.new_local("i")
        self.v_spill = self.il.new_local("i")
        self.next_of = {a.index: b for a, b in zip(analysis.instrs, analysis.instrs[1:])}
        self.previous_of = {b.index: a for a, b in zip(analysis.instrs, analysis.instrs[1:])}
        self.init_fast_paths()

    # ------------------------------------------------------------ driver
    def translate(self):
        cdef ILBuilder il = self.il
        resumed_at = set()
        if is_generator(self.code):
            resumed_at = self.emit_resume_dispatch()
        block_starts = self.a.block_starts | resumed_at
        for ins in self.a.instrs:
            if ins.index in block_starts:
                # every way in finds the whole stack in the slots
                assert not self.deferred, "deferred value live across a block boundary"
                il.mark(self.label_for(ins.index))
            if ins.index <= self.fused_through:
                continue            # emitted with an instruction before it
            depth = self.a.depth_before.get(ins.index)
            if depth is None:
                continue            # unreachable
            il.note("%d %s %d  (line %s, depth %d)" % (ins.index, ins.name, ins.oparg, ins.line, depth))
            self.current_index, self.current_ins, self.current_depth = ins.index, ins, depth
            taken = inputs_taken_in_place(ins)
            if taken is None:
                self.spill(0, depth)
            else:
                self.spill(depth - taken, depth, only_unboxed=True,
                           keep=self.reads_unboxed(ins))
            self.forget_operands()
            # what the interpreter has not run, and a generator's code
            # outside its loops, count as cold (calli_native)
            self.emitting_cold = ins.index in self.a.cold
            self.emit_instruction(ins, depth)
            self.emitting_cold = False
            if taken:
                for d in range(depth - taken, depth):
                    self.deferred.pop(d, None)
            if self.unboxed_result is not None:
                self.defer(*self.unboxed_result, None)
                self.unboxed_result = None
            while ins.index < self.fused_through:
                ins = self.next_instr(ins)
            nxt = self.next_instr(ins)
            if nxt is not None and nxt.index in block_starts:
                self.current_depth = self.a.depth_before.get(nxt.index) or 0
                self.spill(0, self.current_depth)
        self.cold_emission(self.emit_cold_paths)
        self.cold_emission(self.emit_error_paths)
        if self.body_native_calls and not self.all_calls_through_thunks:
            # the P/Invoke frame is set up anyway: thunks would only add a call
            il.call_thunked_directly()
        method = il.finish()
        method.shape["body_native_calls"] = self.body_native_calls
        return method

    def emit_instruction(self, ins, depth):
        emitter = getattr(self, "op_" + ins.name, None)
        if emitter is not None:
            emitter(ins, depth)
        elif ins.name in _CONSUMED_BY_OPARG:
            helper, consumed = _CONSUMED_BY_OPARG[ins.name]
            self.call_op(helper, ins, depth, depth - consumed(ins.oparg))
        elif ins.name in HELPER_OPS:
            helper, consumed = HELPER_OPS[ins.name]
            self.call_op(helper, ins, depth, depth - consumed)
        else:
            raise Unsupported("opcode " + ins.name)

    # ------------------------------------------------------- cold code
    def cold(self, emit, resume, label=None):
        """Label of the code emit() makes, placed after the method's body and
        followed by a branch to `resume` (given a label that the code
        emitted so far would fall into, a branch to it is emitted here).
        Slow paths (generic helpers, cache misses, deallocation) go there,
        so the fast paths of a loop lie together in the instruction cache:
        RyuJIT, with no profile, lays blocks out in IL order, and each
        unmanaged call it expands inline (GC-mode switch and all) is large."""
        cdef ILBuilder il = self.il
        if label is None:
            label = il.new_label()
        elif il.reachable():
            # the code before would have run into it
            il.branch("br", label)
        self.cold_paths.append((label, emit, resume, dict(self.deferred),
                                (self.current_index, self.current_ins, self.current_depth)))
        return label

    def emit_cold_paths(self):
        """Each cold path once; one that repeats an earlier one's code
        (deallocating the same local before the same place, say) is taken
        back and its label placed at the earlier: RyuJIT counts each block
        against its limits."""
        cdef ILBuilder il = self.il
        placed = {}                         # code -> where it is
        while self.cold_paths:              # emitting one may add others
            label, emit, resume, deferred, where = self.cold_paths.pop(0)
            self.current_index, self.current_ins, self.current_depth = where
            self.forget_operands()
            # the stack as it was where the path leaves the body
            self.deferred = deferred
            size = len(il.code)
            il.mark(label)
            # (a br into this path that marking it took back leaves it
            # where control falls into it)
            checkpoint = il.checkpoint() if len(il.code) == size else None
            emit()
            if il.reachable():              # not after a path that always raises
                il.branch("br", resume)
            code = il.emitted_since(checkpoint) if checkpoint is not None else None
            if code is None:
                continue
            if code in placed:
                il.rollback(checkpoint)
                il.place(label, placed[code])
            else:
                placed[code] = il.position(label)
        self.deferred = {}

    # -------------------------------------------------- deferred pushes
    # LOAD_FAST and LOAD_CONST push nothing at first: the value stays where
    # it is (a fast local, a constant) and the instruction that takes it
    # reads it there, borrowing the local's or the constant's reference, so
    # `a * b` makes no incref, decref or stack store for its operands.  Any
    # other instruction, a block boundary, and an error (so the unwinder
    # finds owned references) first spill deferred values into their slots
    # with a new reference.  While deferred, a local cannot change: only
    # STORE_FAST (which spills readers of its local first) and DELETE_FAST
    # (which spills everything) write locals, and no code run meanwhile can
    # write this frame's fast locals.
    #
    # The int result of BINARY_OP's small-int path (or FOR_ITER's over a
    # range), when a BINARY_OP, COMPARE_OP or STORE_FAST takes it next
    # (read_unboxed_next), is left unboxed as ("int", None): the slot holds
    # NULL and the int64 is in an IL local of that depth
    # (FastPaths.unboxed_local) -- or, where the value came from another
    # path (floats, a helper), the slot holds the object.  Those readers
    # take either form; a generic path gets it boxed first; an error path
    # leaves it, the unwinder skipping NULL (nothing a handler keeps can be
    # unboxed; see error_stub).  A float result is left so as ("float",
    # None), a double, where the BINARY_OP expects no two ints.  STORE_FAST
    # writes any of these into the int or float its local holds when
    # nothing else refers to that (FastPaths.store_unboxed).  Where it expects
    # both (no feedback), for a BINARY_OP or COMPARE_OP reading it, the
    # result is left as (NUMBER, None): an int or a float, a tag local
    # saying which.
    def defer(self, depth, kind, what):
        self.deferred[depth] = (kind, what)

    def is_deferred(self, depth):
        return depth in self.deferred

    def load_stack_value(self, depth):
        """Push the object at stack depth `depth`, wherever it is (borrowed
        if deferred)."""
        cdef ILBuilder il = self.il
        value = self.deferred.get(depth)
        assert value is None or value[0] not in UNBOXED_FORMS, "an unboxed value read as an object"
        if value is None:
            self.load_slot(depth)
        elif value[0] == "local":
            self.local_addr(value[1])
            il.op("ldind.i")
        else:
            il.ldc_ptr(value[1])

    def load_stack_reference(self, depth):
        """Push the object at stack depth `depth` with a reference the
        caller takes over: the stack's own, or a new one if deferred."""
        cdef ILBuilder il = self.il
        if not self.is_deferred(depth):
            self.load_slot(depth)
            return
        self.load_stack_value(depth)
        il.stloc(self.v_spill)
        self.incref_local(self.v_spill)
        il.ldloc(self.v_spill)

    def release_stack_value(self, depth, v):
        """Py_DECREF of the object from stack depth `depth`, now in IL local
        v, unless it was borrowed."""
        if not self.is_deferred(depth):
            self.decref_local(v)

    def spill(self, low, high, only_unboxed=False, for_error=False, keep=()):
        """Slots low..high-1 get their deferred values, each with a new
        reference (only the unboxed ones if asked, but for the kinds in
        `keep`; for an error path, which only releases them, not unboxed
        ones)."""
        cdef ILBuilder il = self.il
        for depth in sorted(self.deferred):
            kind = self.deferred[depth][0]
            unboxed = kind in UNBOXED_FORMS
            if not low <= depth < high or (only_unboxed and not unboxed) or kind in keep:
                continue
            if unboxed:
                if not for_error:       # the unwinder skips NULL (Py_XDECREF)
                    self.box_unboxed(depth, kind)
            else:
                self.load_stack_value(depth)
                il.stloc(self.v_spill)
                self.store_new_reference(depth, self.v_spill)
            del self.deferred[depth]

    def read_unboxed_next(self, ins, depth, kind):
        """Will the value of `kind` ins leaves at stack depth `depth` be
        taken, still unboxed, by an instruction reading that kind so
        (_READS_UNBOXED)?  Only if nothing in between spills it: each
        instruction up to that one reads deferred values (and none of them
        takes it), in the same block.  A SWAP moves it (op_SWAP): `v[i] -=
        x` stores the result after two."""
        cur = self.next_instr(ins)
        while cur is not None and cur.index not in self.a.block_starts:
            if cur.name == "COPY":
                return False        # a second reference to it
            taken = inputs_taken_in_place(cur)
            before = self.a.depth_before.get(cur.index)
            if taken is None or before is None:
                return False
            if cur.name == "SWAP":
                top, other = before - 1, before - cur.oparg
                depth = other if depth == top else top if depth == other else depth
            elif before - taken <= depth:
                offset = _UNBOXED_INPUT.get(cur.name)
                return (kind in self.reads_unboxed(cur)
                        and (offset is None or depth == before - taken + offset))
            cur = self.next_instr(cur)
        return False

    def reads_unboxed(self, ins):
        """The unboxed kinds ins takes as they are (_READS_UNBOXED): none
        where only its helper is emitted (boxing them would take a call);
        STORE_FAST and the stores into objects only floats unless ints are
        written in place."""
        if ins.name in _INLINE_BY_FEEDBACK and not self.inline_serves(ins):
            return ()
        if ins.name in _STORES_UNBOXED and not self.ints_in_place:
            return ("float",)
        if ins.name == "CALL":
            return _ANY_NUMBER if self.math_function_called(ins) is not None else ()
        return _READS_UNBOXED.get(ins.name, ())

    def spill_readers_of_local(self, index):
        for depth, value in list(self.deferred.items()):
            if value == ("local", index):
                self.spill(depth, depth + 1)

    # ----------------------------------------------------- generators
    def resume_points(self):
        """(prev_instr index, index resumed at) for every place a suspended
        generator frame can continue from: after RETURN_GENERATOR (first
        send), after each YIELD_VALUE, and just before a SEND's target, where
        genobject.c's _gen_throw leaves a frame whose delegate finished."""
        points = []
        instrs = self.a.instrs
        for pos, ins in enumerate(instrs):
            if ins.name in ("RETURN_GENERATOR", "YIELD_VALUE") and pos + 1 < len(instrs):
                points.append((ins.index, instrs[pos + 1].index))
            elif ins.name == "SEND":
                points.append((ins.target - 1, ins.target))
        return [(prev, nxt) for prev, nxt in points if nxt in self.a.depth_before]

    def emit_resume_dispatch(self):
        """Compiled code only ever runs a generator frame that is resuming
        (hook.c leaves RETURN_GENERATOR to the interpreter), from a state the
        interpreter or compiled code left: jump to where prev_instr says, or
        raise there if the frame is being thrown into.  Returns the indices
        jumped to."""
        cdef ILBuilder il = self.il
        v_prev = il.new_local("i4")
        il.note("generator resume dispatch")
        # the stack is tracked statically from here on; values above the
        # locals are the compiled code's until it suspends again
        self.frame_offset(self.t["frame_stacktop"])
        il.ldc_i4(self.t["nlocalsplus"])
        il.op("stind.i4")
        self.frame_offset(self.t["frame_prev_instr"])
        il.op("ldind.i")
        il.ldc_ptr(self.units)
        il.op("sub")
        il.ldc_i4(1)
        il.op("shr")
        il.op("conv.i4")
        il.stloc(v_prev)
        points = self.resume_points()
        for prev, nxt in points:
            skip = il.new_label()
            depth = self.a.depth_before[nxt]
            il.ldloc(v_prev)
            il.ldc_i4(prev)
            il.branch("bne.un", skip)
            il.op("ldarg.2")
            il.branch("brfalse", self.label_for(nxt))
            il.ldc_i4(-1)
            il.stloc(self.v_status)
            il.branch("br", self.error_stub_at(prev, depth))
            il.mark(skip)
        # not a place this code can suspend at: cannot happen, but never guess
        il.op("ldarg.1")
        il.ldc_ptr(0)
        il.ldc_i4(0)
        il.ldc_ptr(0)
        il.ldc_ptr(self.helpers["bad_resume"])
        self.cold_emission(lambda: self.calli_native(SIG_OP))
        il.stloc(self.v_status)
        il.branch("br", self.error_stub_at(None, 0))
        return {nxt for prev, nxt in points}

    def op_RETURN_GENERATOR(self, ins, depth):
        pass        # never reached: see emit_resume_dispatch

    def op_YIELD_VALUE(self, ins, depth):
        """Suspend: mark the generator suspended, record the stack depth
        without the yielded value and this instruction (where it resumes)
        and return the value to gen_send_ex."""
        cdef ILBuilder il = self.il
        self.set_prev_instr(ins.index)
        self.frame_offset(self.t["gen_state_from_frame"])
        il.ldc_i4(self.t["frame_suspended"])
        il.op("stind.i1")
        self.frame_offset(self.t["frame_stacktop"])
        il.ldc_i4(self.t["nlocalsplus"] + depth - 1)
        il.op("stind.i4")
        self.load_slot(depth - 1)
        il.op("ret")

    def op_SEND(self, ins, depth):
        cdef ILBuilder il = self.il
        self.direct_capable_op("send", ins, depth, depth - 1)
        il.ldloc(self.v_status)
        il.branch("brtrue", self.label_for(ins.target))

    def next_instr(self, ins):
        return self.next_of.get(ins.index)

    def label_for(self, index):
        cdef ILBuilder il = self.il
        label = self.labels.get(index)
        if label is None:
            label = self.labels[index] = il.new_label()
        return label

    # ------------------------------------------------------ frame access
    def frame_offset(self, offset):
        cdef ILBuilder il = self.il
        il.op("ldarg.1")
        il.ldc_i4(offset)
        il.op("add")

    def slot_addr(self, depth):
        self.frame_offset(self.stack_base + self.ptr * depth)

    def load_slot(self, depth):
        cdef ILBuilder il = self.il
        self.slot_addr(depth)
        il.op("ldind.i")

    def local_addr(self, index):
        self.frame_offset(self.local_base + self.ptr * index)

    def call_native(self, address, signature, observes_frame=True):
        """calli of the native function at `address`, its arguments pushed.
        frame->prev_instr is stored first unless the callee cannot look at
        the frame: anything that can raise, run Python code (a __del__, a
        GC callback) or switch threads can see the line number, and only
        such calls can, so fast paths without a call never store it."""
        cdef ILBuilder il = self.il
        if observes_frame:
            self.set_prev_instr(self.current_index)
        il.ldc_ptr(address)
        self.calli_native(signature)

    def calli_native(self, signature):
        """calli of the native function whose address and arguments are
        pushed: directly, or through its thunk on a cold path (made direct
        at the end if the body makes such calls: translate) or everywhere
        if asked."""
        cdef ILBuilder il = self.il
        if not cil.needs_gc_transition(signature):
            il.calli(signature)
        elif self.emitting_cold or self.all_calls_through_thunks:
            il.calli_through_thunk(signature)
        else:
            self.body_native_calls += 1
            il.calli(signature)

    def cold_emission(self, emit):
        """emit() as code off the hot path (see calli_native)."""
        was, self.emitting_cold = self.emitting_cold, True
        try:
            emit()
        finally:
            self.emitting_cold = was

    def set_prev_instr(self, index):
        cdef ILBuilder il = self.il
        self.frame_offset(self.t["frame_prev_instr"])
        il.ldc_ptr(self.units + 2 * index)
        il.op("stind.i")

    # ---------------------------------------------------- ref counting
    def incref_local(self, v):
        """ob_refcnt += 1 on the object held in IL local v."""
        cdef ILBuilder il = self.il
        il.ldloc(v)
        il.ldloc(v)
        il.op("ldind.i")
        il.op("ldc.i4.1")
        il.op("add")
        il.op("stind.i")

    def decref_local(self, v, nullable=False):
        """ob_refcnt -= 1 on the object in IL local v, deallocating at zero."""
        cdef ILBuilder il = self.il
        done = il.new_label()
        if nullable:
            il.ldloc(v)
            il.branch("brfalse", done)
        self.store_decremented_refcount(v)
        il.ldloc(self.v_cnt)
        il.branch("brfalse", self.cold(lambda: self.dealloc(v), done))
        il.mark(done)

    def dealloc(self, v):
        cdef ILBuilder il = self.il
        il.ldloc(v)
        self.call_native(self.helpers["dealloc"], SIG_DEALLOC)

    def decrement_refcount(self, v, done):
        """ob_refcnt -= 1 on the object in IL local v; go to done unless it
        reached zero."""
        cdef ILBuilder il = self.il
        self.store_decremented_refcount(v)
        il.ldloc(self.v_cnt)
        il.branch("brtrue", done)

    def store_decremented_refcount(self, v):
        """ob_refcnt -= 1 on the object in IL local v; the new count in v_cnt."""
        cdef ILBuilder il = self.il
        il.ldloc(v)
        il.op("ldind.i")
        il.op("ldc.i4.1")
        il.op("sub")
        il.stloc(self.v_cnt)
        il.ldloc(v)
        il.ldloc(self.v_cnt)
        il.op("stind.i")

    def store_new_reference(self, slot, v):
        """Stack slot `slot` = the object in IL local v, with a new reference."""
        cdef ILBuilder il = self.il
        self.incref_local(v)
        self.slot_addr(slot)
        il.ldloc(v)
        il.op("stind.i")

    def decref_immortal_local(self, v):
        """ob_refcnt -= 1 on True/False/None, which never reach zero."""
        cdef ILBuilder il = self.il
        il.ldloc(v)
        il.ldloc(v)
        il.op("ldind.i")
        il.op("ldc.i4.1")
        il.op("sub")
        il.op("stind.i")

    # --------------------------------------------------------- helpers
    def call_op(self, helper, ins, depth, error_depth, aux=0, oparg=None, always_fails=False,
                fails_below_zero=False):
        """status = helper(frame, sp, oparg, aux) (ins's oparg unless given);
        on failure (every time if always_fails: it raises; a status below
        zero if fails_below_zero, the others left in v_status; else any
        but 0) unwind from error_depth.  The inputs it consumes are spilled
        first: helpers find their inputs in the slots."""
        cdef ILBuilder il = self.il
        self.spill(error_depth, depth)
        il.op("ldarg.1")
        self.slot_addr(depth)
        il.ldc_i4(ins.oparg if oparg is None else oparg)
        il.ldc_ptr(aux)
        self.call_native(self.helpers[helper], SIG_OP)
        il.stloc(self.v_status)
        if always_fails:
            il.branch("br", self.error_stub(ins, error_depth))
            return
        il.ldloc(self.v_status)
        if fails_below_zero:
            il.op("ldc.i4.0")
            il.branch("blt", self.error_stub(ins, error_depth))
        else:
            il.branch("brtrue", self.error_stub(ins, error_depth))

    def call_op_out_of_line(self, label, resume, helper, ins, depth, error_depth, aux=0):
        """call_op as a cold path at label, continuing at resume."""
        self.cold(lambda: self.call_op(helper, ins, depth, error_depth, aux), resume, label=label)

    def direct_capable_op(self, helper, ins, depth, error_depth, aux=0, leaf_halves=True):
        """A helper that may hand back a compiled callee to run from here,
        managed code calling managed code (ops.h); leaves the status in
        v_status (DIRECT_BRANCH: take the branch) and unwinds from
        error_depth on DIRECT_ERROR.  Where the helper has leaf halves
        (LEAF_HALVES) and the site wants them, they are tried first, and
        the helper and its finishing half are the cold path (unless the
        translation leaves them out: each site grows by some 50 instructions
        and 4 blocks)."""
        cdef ILBuilder il = self.il
        joined = il.new_label()
        if helper in LEAF_HALVES and leaf_halves and self.leaf_halves:
            self.leaf_half_sites += 1
            self.push_direct_capable_arguments(ins, depth, aux)
            # the line the callee's code may see
            self.call_native(self.helpers[helper + "_leaf"], SIG_DIRECT_CAPABLE_LEAF)
            il.stloc(self.v_t0)
            il.ldloc(self.v_t0)
            il.branch("brfalse", self.cold(lambda: self.call_direct_capable(helper, ins, depth, aux),
                                           joined))
            made = il.new_label() if helper == "call_recorded" else None
            if made is not None:
                il.ldloc(self.v_t0)
                il.ldc_i4(CALL_MADE)
                il.op("conv.i")
                il.branch("beq", made)
            self.push_direct_return_arguments(ins, depth)
            self.run_direct_callee()
            il.stloc(self.v_result)
            il.ldloc(self.v_result)
            il.ldc_ptr(self.helpers[helper + "_return_leaf"])
            il.calli(SIG_DIRECT_RETURN_LEAF)
            il.op("dup")
            il.ldc_i4(DIRECT_DECLINED)

            def finish_fully():
                il.op("pop")
                self.push_direct_return_arguments(ins, depth)
                il.ldloc(self.v_result)
                il.ldc_ptr(self.helpers[helper + "_return"])
                self.calli_native(SIG_DIRECT_RETURN)
            il.branch("beq", self.cold(finish_fully, joined))
            if made is not None:
                il.branch("br", joined)
                il.mark(made)
                il.ldc_i4(DIRECT_NEXT)
        else:
            self.call_direct_capable(helper, ins, depth, aux)
        il.mark(joined)
        il.stloc(self.v_status)
        il.ldloc(self.v_status)
        il.ldc_i4(DIRECT_ERROR)
        il.branch("beq", self.error_stub(ins, error_depth))

    def push_direct_capable_arguments(self, ins, depth, aux):
        cdef ILBuilder il = self.il
        il.op("ldarg.1")
        self.slot_addr(depth)
        il.ldc_i4(ins.oparg)
        il.ldc_ptr(aux)
        il.ldloca(self.v_callee)

    def push_direct_return_arguments(self, ins, depth):
        cdef ILBuilder il = self.il
        il.op("ldarg.0")
        self.slot_addr(depth)
        il.ldc_i4(ins.oparg)
        il.ldloc(self.v_callee)

    def run_direct_callee(self):
        """Push what the callee's entry (in v_t0) returns for the frame in
        v_callee."""
        cdef ILBuilder il = self.il
        il.op("ldarg.0")
        il.ldloc(self.v_callee)
        il.op("ldc.i4.0")
        il.ldloc(self.v_t0)
        il.calli(SIG_DIRECT_ENTRY)

    def call_direct_capable(self, helper, ins, depth, aux):
        """The helper, and the callee it may hand back run and finished:
        leaves the status on the IL stack."""
        cdef ILBuilder il = self.il
        made = il.new_label()
        done = il.new_label()
        self.push_direct_capable_arguments(ins, depth, aux)
        self.call_native(self.helpers[helper], SIG_DIRECT_CAPABLE)
        il.stloc(self.v_t0)
        il.ldloc(self.v_t0)
        il.ldc_i4(DIRECT_ERROR)
        il.op("conv.i")
        il.branch("ble.un", made)
        self.push_direct_return_arguments(ins, depth)
        self.run_direct_callee()
        il.ldc_ptr(self.helpers[helper + "_return"])
        self.calli_native(SIG_DIRECT_RETURN)
        il.branch("br", done)
        il.mark(made)
        il.ldloc(self.v_t0)
        il.op("conv.i4")
        il.mark(done)

    def op_BUILD_SLICE(self, ins, depth):
        """A slice taken or assigned right away is one helper call, which
        makes no slice object for a list or tuple (ops.c)."""
        nxt = self.next_instr(ins)
        fused = None
        if nxt is not None and nxt.index not in self.a.block_starts:
            fused = _SLICE_SUBSCRIPTS.get(nxt.name)
        if fused is None:
            self.call_op("build_slice", ins, depth, depth - ins.oparg)
            return
        helper, below = fused
        self.fused_through = nxt.index
        self.current_index = nxt.index      # what fails is the subscript
        self.call_op(helper, nxt, depth, depth - ins.oparg - below, oparg=ins.oparg)

    def call_branch_op(self, helper, ins, depth, error_depth):
        """Like call_op for helpers that return 1 to request the branch; leaves
        nothing on the IL stack, the caller tests v_status."""
        cdef ILBuilder il = self.il
        il.op("ldarg.1")
        self.slot_addr(depth)
        il.ldc_i4(ins.oparg)
        il.ldc_ptr(0)
        self.call_native(self.helpers[helper], SIG_OP)
        il.stloc(self.v_status)
        il.ldloc(self.v_status)
        il.op("ldc.i4.0")
        il.branch("blt", self.error_stub(ins, error_depth))

    def error_stub(self, ins, depth):
        """Label to unwind from, the instruction ins failing with `depth`
        values on the stack: deferred ones are spilled on the way, so the
        unwinder owns what it releases."""
        stub = self.error_stub_at(ins.index, depth)
        spilled = tuple(sorted((d, v) for d, v in self.deferred.items() if d < depth))
        if not spilled:
            return stub
        handler = self.a.handler_for.get(ins.index)
        if handler is not None and any(v[0] in UNBOXED_FORMS and d < handler.depth
                                       for d, v in spilled):
            # expressions do not span a try statement, so this is not expected
            raise Unsupported("an unboxed value below an exception handler's stack")
        key = (stub, spilled)
        label = self.spill_stubs.get(key)
        if label is None:
            label = self.spill_stubs[key] = self.cold(
                lambda: self.spill(0, depth, for_error=True), stub)
        return label

    def error_stub_at(self, index, depth):
        """Label of the code that unwinds an error raised at bytecode `index`
        with `depth` values on the stack (index None: no handler)."""
        cdef ILBuilder il = self.il
        h = self.a.handler_for.get(index)
        key = (h.key() if h is not None else None, depth)
        label = self.error_stubs.get(key)
        if label is None:
            label = self.error_stubs[key] = il.new_label()
        return label

    def emit_error_paths(self):
        cdef ILBuilder il = self.il
        handler_by_key = {h.key(): h for h in self.a.handlers}
        for (hkey, depth), label in list(self.error_stubs.items()):
            il.mark(label)
            il.ldc_i4(depth)
            il.stloc(self.v_errdepth)
            if hkey is None:
                il.branch("br", self.exit_label)
            else:
                entry = self.handler_entries.get(hkey)
                if entry is None:
                    entry = self.handler_entries[hkey] = il.new_label()
                il.branch("br", entry)
        for hkey, entry in self.handler_entries.items():
            h = handler_by_key[hkey]
            il.mark(entry)
            il.note("handler -> %d (depth %d, lasti %d)" % (h.target, h.depth, h.lasti))
            il.op("ldarg.1")
            il.ldloc(self.v_status)
            il.ldloc(self.v_errdepth)
            il.ldc_i4(h.depth)
            il.ldc_i4(h.lasti)
            il.ldc_ptr(self.helpers["enter_handler"])
            self.calli_native(SIG_ENTER_HANDLER)
            il.branch("brfalse", self.label_for(h.target))
            # could not even build lasti: leave with what is on the stack
            il.ldc_i4(STATUS_RERAISE)
            il.stloc(self.v_status)
            il.ldc_i4(h.depth)
            il.stloc(self.v_errdepth)
            il.branch("br", self.exit_label)
        il.mark(self.exit_label)
        il.note("error exit")
        il.op("ldarg.1")
        il.ldloc(self.v_status)
        il.ldloc(self.v_errdepth)
        il.ldc_ptr(self.helpers["exit_with_error"])
        self.calli_native(SIG_EXIT)
        il.ldc_ptr(0)
        il.op("ret")
        # handler targets only reachable through the table still need labels marked
        for index, label in self.labels.items():
            if not il.is_marked(label):
                raise ValueError("jump target %d has no code" % index)

    def poll_eval_breaker(self, ins, depth):
        """if (eval_breaker) { status = handle(frame); if status: error }"""
        cdef ILBuilder il = self.il
        skip = il.new_label()
        il.ldc_ptr(self.t["eval_breaker"])
        il.op("volatile.")
        il.op("ldind.i4")
        il.branch("brtrue", self.cold(lambda: self.handle_eval_breaker(ins, depth), skip))
        il.mark(skip)

    def handle_eval_breaker(self, ins, depth):
        cdef ILBuilder il = self.il
        self.set_prev_instr(ins.index)
        il.op("ldarg.1")
        il.ldc_ptr(self.helpers["eval_breaker"])
        self.calli_native(SIG_EVAL_BREAKER)
        il.stloc(self.v_status)
        il.ldloc(self.v_status)
        il.branch("brtrue", self.error_stub(ins, depth))

    # ----------------------------------------------------- inline ops
    def op_NOP(self, ins, depth):
        pass

    op_PRECALL = op_NOP

    def op_RESUME(self, ins, depth):
        if ins.oparg < 2:
            self.poll_eval_breaker(ins, depth)

    def op_KW_NAMES(self, ins, depth):
        self.kwnames = id(self.code.co_consts[ins.oparg])

    def op_UNARY_POSITIVE(self, ins, depth):
        self.call_op("unary", ins, depth, depth - 1, aux=self.helpers["PyNumber_Positive"])

    def op_UNARY_NEGATIVE(self, ins, depth):
        self.call_op("unary", ins, depth, depth - 1, aux=self.helpers["PyNumber_Negative"])

    def op_UNARY_INVERT(self, ins, depth):
        self.call_op("unary", ins, depth, depth - 1, aux=self.helpers["PyNumber_Invert"])

    # Like the interpreter, calls poll the eval breaker when they return: a
    # signal raised by the callee (say _thread.interrupt_main()) surfaces at
    # the call, not at the next loop edge.
    def op_CALL(self, ins, depth):
        cdef ILBuilder il = self.il
        kwnames, self.kwnames = self.kwnames, 0
        replaced = self.replaced_call(ins)
        if replaced is not None:
            name, emit = replaced
            done = il.new_label()
            generic = il.new_label()
            self.replaced_calls.append((ins.index, name))
            emit(ins, depth, generic)
            il.branch("br", done)
            self.cold(lambda: self.call_made(ins, depth, kwnames), done, label=generic)
            il.mark(done)
            return
        self.call_made(ins, depth, kwnames)

    def call_made(self, ins, depth, kwnames):
        """CALL's code but for replaced_call's fast paths: the stack's values
        in the slots, the call made inline (INLINE_CALLS, consume_generator)
        or by general_call."""
        cdef ILBuilder il = self.il
        self.spill(depth - ins.oparg - 2, depth)
        seen = self.precall_seen(ins)
        done = il.new_label()
        inline = INLINE_CALLS.get(seen) if not kwnames else None
        consumer = self.generator_consumer(ins) if not kwnames else None
        if consumer is not None:
            self.consume_generator(ins, depth, done, consumer)     # or falls through
        if inline is not None and ins.oparg == inline[1]:
            inline[0](self, ins, depth, done)
            # the call itself, where the fast path's guards fail, is a cold
            # path: the method may then need no P/Invoke frame
            il.branch("br", self.cold(lambda: self.general_call(ins, depth, kwnames, seen),
                                              done))
        else:
            self.general_call(ins, depth, kwnames, seen)
        il.mark(done)

    def general_call(self, ins, depth, kwnames, seen):
        """CALL made by a helper, or by a direct call of a C function
        (c_call_conventions)."""
        cdef ILBuilder il = self.il
        called = il.new_label()
        conventions = self.c_call_conventions(seen) if not kwnames else None
        if conventions is not None:
            self.c_function_call(ins, depth, *conventions, called)
        if kwnames:
            self.direct_capable_op("call", ins, depth, depth - ins.oparg - 2, aux=kwnames)
        else:
            # leaf halves where the interpreter saw calls of Python functions,
            # or gave up (it does on classes), or in code it ran warm, no
            # calls lately, or in a loop of code compiled at its first call
            # (where the site is run again and again, its callee unknown
            # until then); elsewhere (a C function, such code outside its
            # loops) they would mostly decline, a leaf call and a jump wasted
            self.direct_capable_op("call_recorded", ins, depth, depth - ins.oparg - 2,
                                   aux=self.site_cache[ins.index],
                                   leaf_halves=seen in PYTHON_CALLS or seen == bytecode.GENERIC
                                   or (seen is None and self.a.warmed)
                                   or self.unseen_call_in_cold_loop(seen))
        il.mark(called)
        self.poll_eval_breaker(ins, depth - ins.oparg - 1)

    def op_CALL_FUNCTION_EX(self, ins, depth):
        # [NULL, func, args, kwargs?]: func and args (and kwargs) are consumed
        # on failure; the NULL below them stays, holding nothing
        func = depth - 2 - (ins.oparg & 1)
        self.spill(func - 1, depth)
        self.direct_capable_op("call_function_ex", ins, depth, func)
        self.poll_eval_breaker(ins, func)

    def op_LOAD_CONST(self, ins, depth):
        self.defer(depth, "const", id(self.code.co_consts[ins.oparg]))

    def op_LOAD_ASSERTION_ERROR(self, ins, depth):
        cdef ILBuilder il = self.il
        self.slot_addr(depth)
        il.ldc_ptr(self.t["assertion_error"])
        il.op("dup")
        il.stloc(self.v_t0)
        il.op("stind.i")
        self.incref_local(self.v_t0)

    def op_LOAD_FAST(self, ins, depth):
        self.check_bound(ins, depth)
        self.defer(depth, "local", ins.oparg)

    def check_bound(self, ins, depth):
        """UnboundLocalError unless local oparg holds a value (where the
        analysis cannot tell it does: Analysis.bound_before)."""
        cdef ILBuilder il = self.il
        if self.a.bound_before.get(ins.index, 0) >> ins.oparg & 1:
            return
        bound = il.new_label()
        self.local_addr(ins.oparg)
        il.op("ldind.i")
        il.branch("brfalse", self.cold(
            lambda: self.call_op("unbound_local", ins, depth, depth, always_fails=True), bound))
        il.mark(bound)

    def op_COPY_FREE_VARS(self, ins, depth):
        """The function's closure cells into the frame's last n slots, inline:
        a native call would make the method set up a P/Invoke frame on every
        entry (see calli_native), and a generator expression is entered once
        per item."""
        cdef ILBuilder il = self.il
        self.frame_offset(self.t["frame_func"])
        il.op("ldind.i")
        il.ldc_i4(self.t["func_closure"])
        il.op("add")
        il.op("ldind.i")
        il.stloc(self.v_t0)
        first = self.t["nlocalsplus"] - ins.oparg
        for i in range(ins.oparg):
            self.load_field(self.v_t0, self.t["tuple_items"] + self.t["pointer_size"] * i, "i")
            il.stloc(self.v_t1)
            self.incref_local(self.v_t1)
            self.local_addr(first + i)
            il.ldloc(self.v_t1)
            il.op("stind.i")

    def op_LOAD_CLOSURE(self, ins, depth):
        cdef ILBuilder il = self.il
        self.check_bound(ins, depth)
        self.local_addr(ins.oparg)
        il.op("ldind.i")
        il.stloc(self.v_t0)
        self.store_new_reference(depth, self.v_t0)

    def op_STORE_FAST(self, ins, depth):
        self.spill_readers_of_local(ins.oparg)
        form = self.deferred.get(depth - 1, ("",))[0]
        if form in UNBOXED_FORMS:
            self.store_unboxed(form, ins.oparg, depth)
            return
        self.local_addr(ins.oparg)
        self.store_top_at_address(depth)

    def store_top_at_address(self, depth):
        """*address (on the IL stack) = the value at depth-1, which the
        stack gives up (a new reference if deferred); the old value there,
        if any, is released."""
        cdef ILBuilder il = self.il
        il.stloc(self.v_t1)
        il.ldloc(self.v_t1)
        il.op("ldind.i")
        il.stloc(self.v_t0)
        il.ldloc(self.v_t1)
        self.load_stack_reference(depth - 1)
        il.op("stind.i")
        self.decref_value(self.v_t0, nullable=True)

    def cell_value_address(self, index):
        """Push the address of the value field of the cell in local index."""
        cdef ILBuilder il = self.il
        self.local_addr(index)
        il.op("ldind.i")
        il.ldc_i4(self.t["cell_ref"])
        il.op("add")

    def op_LOAD_DEREF(self, ins, depth):
        """The cell's value; an empty cell is the helper's, which raises."""
        cdef ILBuilder il = self.il
        done = il.new_label()
        self.cell_value_address(ins.oparg)
        il.op("ldind.i")
        il.stloc(self.v_t0)
        il.ldloc(self.v_t0)
        il.branch("brfalse", self.cold(lambda: self.call_op("load_deref", ins, depth, depth), done))
        self.store_new_reference(depth, self.v_t0)
        il.mark(done)

    def op_STORE_DEREF(self, ins, depth):
        self.cell_value_address(ins.oparg)
        self.store_top_at_address(depth)

    def op_DELETE_FAST(self, ins, depth):
        cdef ILBuilder il = self.il
        self.check_bound(ins, depth)        # (del of an unbound local raises)
        self.local_addr(ins.oparg)
        il.op("ldind.i")
        il.stloc(self.v_t0)
        self.local_addr(ins.oparg)
        il.ldc_ptr(0)
        il.op("stind.i")
        self.decref_local(self.v_t0)

    def op_POP_TOP(self, ins, depth):
        cdef ILBuilder il = self.il
        if self.is_deferred(depth - 1):
            return                  # borrowed: nothing to release
        self.load_slot(depth - 1)
        il.stloc(self.v_t0)
        self.decref_local(self.v_t0)

    def op_PUSH_NULL(self, ins, depth):
        cdef ILBuilder il = self.il
        self.slot_addr(depth)
        il.ldc_ptr(0)
        il.op("stind.i")

    # COPY and SWAP of deferred values move the notes, not the values:
    # `x.a += 1` and `v[i] -= d` then touch no reference count for x, v, i.
    def op_COPY(self, ins, depth):
        cdef ILBuilder il = self.il
        source = depth - ins.oparg
        assert self.deferred.get(source, ("",))[0] not in UNBOXED_FORMS, "COPY of an unboxed value"
        if self.is_deferred(source):
            self.deferred[depth] = self.deferred[source]
            return
        self.load_slot(source)
        il.stloc(self.v_t0)
        self.store_new_reference(depth, self.v_t0)

    def op_SWAP(self, ins, depth):
        cdef ILBuilder il = self.il
        top, other = depth - 1, depth - ins.oparg
        unboxed = [d for d in (top, other) if self.deferred.get(d, ("",))[0] in UNBOXED_FORMS]
        if len(unboxed) == 2:           # not expected: boxed, then as objects
            self.spill(other, other + 1)
            self.spill(top, top + 1)
            unboxed = []
        noted = {d: self.deferred.pop(d) for d in (top, other) if d in self.deferred}
        for moving in unboxed:
            # its IL locals move; so does its slot (NULL, or the object
            # another path made), below
            self.move_unboxed(moving, other if moving == top else top, noted[moving][0])
        if len(noted) == 1 and not unboxed:
            # one value is in its slot: it moves to the other's
            (was_noted,) = noted
            moved = other if was_noted == top else top
            self.slot_addr(was_noted)
            self.load_slot(moved)
            il.op("stind.i")
        elif not noted or unboxed:
            self.load_slot(top)
            il.stloc(self.v_t0)
            self.slot_addr(top)
            self.load_slot(other)
            il.op("stind.i")
            self.slot_addr(other)
            il.ldloc(self.v_t0)
            il.op("stind.i")
        for d, value in noted.items():
            self.deferred[other if d == top else top] = value

    def op_RETURN_VALUE(self, ins, depth):
        cdef ILBuilder il = self.il
        # a frame object that outlives the call reports this line
        self.set_prev_instr(ins.index)
        self.spill(0, depth - 1)
        self.load_stack_reference(depth - 1)
        il.op("ret")

    def op_IS_OP(self, ins, depth):
        cdef ILBuilder il = self.il
        is_true = il.new_label()
        done = il.new_label()
        self.load_stack_value(depth - 2)
        il.stloc(self.v_t0)
        self.load_stack_value(depth - 1)
        il.stloc(self.v_t1)
        self.release_stack_value(depth - 2, self.v_t0)
        self.release_stack_value(depth - 1, self.v_t1)
        # identity of the (possibly now freed) pointers is still meaningful
        il.ldloc(self.v_t0)
        il.ldloc(self.v_t1)
        il.branch("beq" if ins.oparg == 0 else "bne.un", is_true)
        il.ldc_ptr(self.t["py_false"])
        il.branch("br", done)
        il.mark(is_true)
        il.ldc_ptr(self.t["py_true"])
        il.mark(done)
        il.stloc(self.v_t0)
        self.store_new_reference(depth - 2, self.v_t0)

    # ---------------------------------------------------------- jumps
    def jump(self, ins, depth_after, poll):
        cdef ILBuilder il = self.il
        if poll:
            self.poll_eval_breaker(ins, depth_after)
        il.branch("br", self.label_for(ins.target))


    def op_JUMP_FORWARD(self, ins, depth):
        self.jump(ins, depth, False)

    def op_JUMP_BACKWARD(self, ins, depth):
        self.jump(ins, depth, True)

    def op_JUMP_BACKWARD_NO_INTERRUPT(self, ins, depth):
        self.jump(ins, depth, False)

    def emit_truth_branch(self, ins, depth, bint when_true, bint pop_always, target):
        """Shared body of the conditional jumps: TOS is tested for truth and
        control goes to `target` when truth == when_true.  POP_JUMP_* always
        pop; JUMP_IF_*_OR_POP keep TOS when jumping and pop it otherwise.
        True, False and None, and (but in compact code) an exact int, list
        or tuple by its ob_size, are told inline; anything else asks a
        helper on a cold path, so that the method may need no P/Invoke
        frame (calli_native)."""
        cdef ILBuilder il = self.il
        is_true = il.new_label()
        is_false = il.new_label()
        after = il.new_label()
        self.spill(0, depth - 1)            # the block ends here
        borrowed = self.is_deferred(depth - 1)
        self.load_stack_value(depth - 1)
        il.stloc(self.v_t0)
        il.ldloc(self.v_t0)
        il.ldc_ptr(self.t["py_true"])
        il.branch("beq", is_true)
        il.ldloc(self.v_t0)
        il.ldc_ptr(self.t["py_false"])
        il.branch("beq", is_false)
        il.ldloc(self.v_t0)
        il.ldc_ptr(self.t["py_none"])
        il.branch("beq", is_false)
        if pop_always:
            def ask_helper():
                # pop_truth consumes TOS; v_status = truth
                self.spill(depth - 1, depth)
                self.call_branch_op("pop_truth", ins, depth, depth - 1)
                il.ldloc(self.v_status)
                il.branch("brtrue", target if when_true else after)
                il.branch("br", after if when_true else target)
            helper = self.cold(ask_helper, after)
            if not self.compact:
                sized_true, sized_false = il.new_label(), il.new_label()
                self.branch_on_size(helper, sized_true, sized_false)
                for label, truth in ((sized_true, True), (sized_false, False)):
                    il.mark(label)
                    if not borrowed:
                        self.decref_local(self.v_t0)
                    il.branch("br", target if truth == when_true else after)
            else:
                il.branch("br", helper)
            il.mark(is_true)
            if not borrowed:
                self.decref_immortal_local(self.v_t0)
            il.branch("br", target if when_true else after)
            il.mark(is_false)
            if not borrowed:
                self.decref_immortal_local(self.v_t0)
            il.branch("br", after if when_true else target)
        else:
            # peek_truth leaves TOS; it stays when jumping, is dropped otherwise
            drop = il.new_label()

            def ask_helper():
                self.call_branch_op("peek_truth", ins, depth, depth)
                il.ldloc(self.v_status)
                il.branch("brtrue", target if when_true else drop)
                il.branch("br", drop if when_true else target)
            helper = self.cold(ask_helper, drop)
            if not self.compact:
                self.branch_on_size(helper, is_true, is_false)
            else:
                il.branch("br", helper)
            il.mark(is_true)
            il.branch("br", target if when_true else drop)
            il.mark(is_false)
            il.branch("br", drop if when_true else target)
            il.mark(drop)
            self.decref_local(self.v_t0)
        il.mark(after)

    def branch_on_size(self, other, nonzero, zero):
        """For the object in v_t0: to `nonzero` or `zero` by its ob_size if
        it is an exact int, list or tuple (its truth), else to `other`."""
        cdef ILBuilder il = self.il
        sized = il.new_label()
        self.load_field(self.v_t0, self.t["ob_type"], "i")
        il.stloc(self.v_t1)
        for kind in ("long_type", "list_type", "tuple_type"):
            il.ldloc(self.v_t1)
            il.ldc_ptr(self.t[kind])
            il.branch("beq", sized)
        il.branch("br", other)
        il.mark(sized)
        self.load_field(self.v_t0, self.t["var_size"], "i8")
        il.branch("brtrue", nonzero)
        il.branch("br", zero)

    def branch_target(self, ins, depth_after):
        """Label to branch to for ins's jump: a backward edge goes through
        out-of-line code that polls the eval breaker first."""
        if ins.target > ins.index:
            return self.label_for(ins.target)
        return self.cold(lambda: self.poll_eval_breaker(ins, depth_after),
                         self.label_for(ins.target))

    def conditional(self, ins, depth, bint when_true):
        self.emit_truth_branch(ins, depth, when_true, True, self.branch_target(ins, depth - 1))

    def op_POP_JUMP_FORWARD_IF_TRUE(self, ins, depth):
        self.conditional(ins, depth, True)

    def op_POP_JUMP_FORWARD_IF_FALSE(self, ins, depth):
        self.conditional(ins, depth, False)

    op_POP_JUMP_BACKWARD_IF_TRUE = op_POP_JUMP_FORWARD_IF_TRUE
    op_POP_JUMP_BACKWARD_IF_FALSE = op_POP_JUMP_FORWARD_IF_FALSE

    def op_JUMP_IF_TRUE_OR_POP(self, ins, depth):
        self.emit_truth_branch(ins, depth, True, False, self.label_for(ins.target))

    def op_JUMP_IF_FALSE_OR_POP(self, ins, depth):
        self.emit_truth_branch(ins, depth, False, False, self.label_for(ins.target))

    def none_jump(self, ins, depth, bint jump_if_none):
        cdef ILBuilder il = self.il
        self.spill(0, depth - 1)            # the block ends here
        self.load_stack_value(depth - 1)
        il.stloc(self.v_t0)
        self.release_stack_value(depth - 1, self.v_t0)
        # identity of the (possibly now freed) pointer is still meaningful
        il.ldloc(self.v_t0)
        il.ldc_ptr(self.t["py_none"])
        il.branch("beq" if jump_if_none else "bne.un", self.branch_target(ins, depth - 1))

    def op_POP_JUMP_FORWARD_IF_NONE(self, ins, depth):
        self.none_jump(ins, depth, True)

    def op_POP_JUMP_FORWARD_IF_NOT_NONE(self, ins, depth):
        self.none_jump(ins, depth, False)

    op_POP_JUMP_BACKWARD_IF_NONE = op_POP_JUMP_FORWARD_IF_NONE
    op_POP_JUMP_BACKWARD_IF_NOT_NONE = op_POP_JUMP_FORWARD_IF_NOT_NONE

    # ------------------------------------------------- exception flow
    # Raising is a cold path where it stands: a raise costs far more than a
    # thunk, which spares the method a P/Invoke frame (calli_native).
    def op_RERAISE(self, ins, depth):
        cdef ILBuilder il = self.il
        self.cold_emission(lambda: self.call_op("reraise", ins, depth, depth - 1))
        il.branch("br", self.error_stub(ins, depth - 1))

    def op_RAISE_VARARGS(self, ins, depth):
        cdef ILBuilder il = self.il
        self.cold_emission(lambda: self.call_op("raise_varargs", ins, depth, depth - ins.oparg))
        il.branch("br", self.error_stub(ins, depth - ins.oparg))


def translate(code, target, site_caches):
    """CilMethod for `code`, or raises Unsupported.  `target` is the target
    description merged with the code's own facts (_native.code_facts);
    site_caches(n) gives the address of n inline caches for this code."""
    check_supported(code, target)
    analysis = bytecode.analyze(code)
    if analysis.max_depth > target["stacksize"]:
        raise Unsupported("stack deeper than co_stacksize")
    if least_il_bytes(analysis.instrs) > MAX_OPTIMIZED_IL_BYTES:
        raise Unsupported("too large: over %d IL bytes, which RyuJIT does not optimize"
                          % MAX_OPTIMIZED_IL_BYTES)
    target = dict(target, site_caches=site_caches(count_cached_sites(analysis.instrs)))
    all_thunked = all_calls_through_thunks(code, analysis.instrs)
    first_shape = None              # the first attempt's, when over RyuJIT's limits
    leaf_halves_made = True
    for options, least_shrink in attempts(analysis.instrs):
        if first_shape is not None and not may_fit(first_shape, least_shrink):
            continue            # spares translating it
        if options["compact"] == COMPACT_LEVELS - 1 and target["calls"] < LAST_LEVEL_MIN_CALLS:
            raise Unsupported("too large unless compact: compiled if called %d times"
                              % LAST_LEVEL_MIN_CALLS,
                              retry_after_calls=LAST_LEVEL_MIN_CALLS - target["calls"])
        if options.get("leaf_halves") is False and not leaf_halves_made:
            continue            # the attempt before made the same method
        translator = Translator(code, analysis, target, all_calls_through_thunks=all_thunked,
                                **options)
        method = translator.translate()
        leaf_halves_made = translator.leaf_half_sites > 0
        if over_minopts_limit(method.shape) is None:
            return method
        if first_shape is None:
            first_shape = method.shape
    exceeded = over_minopts_limit(method.shape)
    raise Unsupported("too large: over %d %s, which RyuJIT does not optimize"
                      % (MINOPTS_LIMITS[exceeded],
                         "IL bytes" if exceeded == "il_bytes" else exceeded.replace("_", " ")))


def all_calls_through_thunks(code, instrs):
    """Do all native calls that switch GC mode go through thunks?  In a
    generator whose only loops are yield from's (a tree walk's __iter__):
    it is entered again at every resumption, its prologue setting up the
    P/Invoke frame such calls need each time, but makes its calls about
    once per item.  (Elsewhere only calls on cold paths go through thunks,
    and only while the body makes no such call: Translator.calli_native.)"""
    return bool(code.co_flags & (CO_GENERATOR | CO_ASYNC_GENERATOR)) and not any(
        ins.name in LOOP_JUMPS for ins in instrs)


def attempts(instrs):
    """Translator options to try in turn while the method is over a limit
    of RyuJIT's: fewer fast paths rather than the interpreter.  First
    without the inline search of the site's own cache where the
    interpreter's cache is checked (where there are any such sites: a
    sixth of hexiom's constraint_pass's blocks), then without ints written
    in place (nor the inline search of a list of ints), then compact
    levels, the first of them also with the calls' leaf halves (a compiled
    callee run without switching GC mode: chaos's Spline.__call__ makes
    six calls per call).  Each with the least share of the first attempt's
    shape its method's can be (may_fit): the least seen over the 72
    functions of 18 stdlib modules and 5 warmed benchmarks that were over
    at the first (re's _parse, argparse, enum, inspect, hexiom's
    constraint_pass, ...), as the ratio to its limit of the field furthest
    over, less a tenth; attempts that cannot fit are not made (re._parser's
    _parse: one translation of 102 ms instead of six)."""
    yield dict(compact=0), 1.0
    if any(ins.cached is not None for ins in instrs):
        yield dict(compact=0, site_caches_inline=False), 0.76      # 0.85 seen
    yield dict(compact=0, site_caches_inline=False, ints_in_place=False), 0.71     # 0.79
    yield dict(compact=1, leaf_halves=True), 0.58      # 0.64
    yield dict(compact=1, leaf_halves=False), 0.54     # 0.60
    yield dict(compact=2), 0.52                        # 0.58
    assert COMPACT_LEVELS == 4
    yield dict(compact=3), 0.20                        # 0.22


def may_fit(shape, shrink):
    """Could a method of `shape` (a CilMethod.shape) shrunk to `shrink`
    of it be within RyuJIT's limits?"""
    return all(shape[field] * shrink <= limit for field, limit in MINOPTS_LIMITS.items())


def least_il_bytes(instrs):
    """MIN_IL_BYTES_PER_INSTRUCTION for each instruction but the STORE_FASTs
    after an UNPACK_SEQUENCE, which may take them (stores_after)."""
    count = 0
    unpacking = False
    for ins in instrs:
        unpacking = ins.name == "STORE_FAST" and unpacking or ins.name == "UNPACK_SEQUENCE"
        if not (unpacking and ins.name == "STORE_FAST"):
            count += 1
    return count * MIN_IL_BYTES_PER_INSTRUCTION


def over_minopts_limit(shape):
    """The first CilMethod.shape field past RyuJIT's limit, or None."""
    for field, limit in MINOPTS_LIMITS.items():
        if shape[field] > limit:
            return field
    return None
