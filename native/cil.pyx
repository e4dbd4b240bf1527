# cython: language_level=3
"""CIL encoder: opcodes, labels and branch fix-ups, locals, and the blobs of
the standalone signatures used by `calli`.

The output, `CilMethod`, is plain data (bytes and lists): a backend turns its
signature blobs into metadata tokens and patches them in with `resolve()`.
Only the subset of CIL the translator uses is encoded; `OPCODES` maps each
opcode to its encoding and operand kind, and the disassembler reads the same
table, so the two cannot drift apart.
"""

import struct

# name: (encoding bytes, operand kind)
# operand kinds: none, i1, i4, i8, label32, token, switch, u2
OPCODES = {
    "nop": (b"\x00", "none"),
    "ldarg.0": (b"\x02", "none"),
    "ldarg.1": (b"\x03", "none"),
    "ldarg.2": (b"\x04", "none"),
    "ldloc.0": (b"\x06", "none"),
    "ldloc.1": (b"\x07", "none"),
    "ldloc.2": (b"\x08", "none"),
    "ldloc.3": (b"\x09", "none"),
    "stloc.0": (b"\x0a", "none"),
    "stloc.1": (b"\x0b", "none"),
    "stloc.2": (b"\x0c", "none"),
    "stloc.3": (b"\x0d", "none"),
    "ldloc.s": (b"\x11", "u1"),
    "stloc.s": (b"\x13", "u1"),
    "ldloca.s": (b"\x12", "u1"),
    "ldnull": (b"\x14", "none"),
    "ldc.i4.0": (b"\x16", "none"),
    "ldc.i4.1": (b"\x17", "none"),
    "ldc.i4.m1": (b"\x15", "none"),
    "ldc.i4.s": (b"\x1f", "i1"),
    "ldc.i4": (b"\x20", "i4"),
    "ldc.i8": (b"\x21", "i8"),
    "ldc.r8": (b"\x23", "r8"),
    "dup": (b"\x25", "none"),
    "pop": (b"\x26", "none"),
    "calli": (b"\x29", "token"),
    "ret": (b"\x2a", "none"),
    "br": (b"\x38", "label32"),
    "brfalse": (b"\x39", "label32"),
    "brtrue": (b"\x3a", "label32"),
    "beq": (b"\x3b", "label32"),
    "bge": (b"\x3c", "label32"),
    "bgt": (b"\x3d", "label32"),
    "ble": (b"\x3e", "label32"),
    "blt": (b"\x3f", "label32"),
    "bne.un": (b"\x40", "label32"),
    "bge.un": (b"\x41", "label32"),
    "bgt.un": (b"\x42", "label32"),
    "ble.un": (b"\x43", "label32"),
    "blt.un": (b"\x44", "label32"),
    "switch": (b"\x45", "switch"),
    "ldind.i1": (b"\x46", "none"),
    "ldind.u1": (b"\x47", "none"),
    "ldind.i4": (b"\x4a", "none"),
    "ldind.u4": (b"\x4b", "none"),
    "ldind.i8": (b"\x4c", "none"),
    "ldind.r8": (b"\x4f", "none"),
    "ldind.i": (b"\x4d", "none"),
    "stind.i1": (b"\x52", "none"),
    "conv.u1": (b"\xd2", "none"),
    "stind.i4": (b"\x54", "none"),
    "stind.i8": (b"\x55", "none"),
    "stind.r8": (b"\x57", "none"),
    "add": (b"\x58", "none"),
    "sub": (b"\x59", "none"),
    "mul": (b"\x5a", "none"),
    "div": (b"\x5b", "none"),
    "rem": (b"\x5d", "none"),
    "and": (b"\x5f", "none"),
    "or": (b"\x60", "none"),
    "xor": (b"\x61", "none"),
    "shl": (b"\x62", "none"),
    "shr": (b"\x63", "none"),
    "shr.un": (b"\x64", "none"),
    "conv.i4": (b"\x69", "none"),
    "conv.i8": (b"\x6a", "none"),
    "conv.r8": (b"\x6c", "none"),
    "conv.u8": (b"\x6e", "none"),
    "conv.i": (b"\xd3", "none"),
    "stind.i": (b"\xdf", "none"),
    "ceq": (b"\xfe\x01", "none"),
    "cgt": (b"\xfe\x02", "none"),
    "cgt.un": (b"\xfe\x03", "none"),
    "clt": (b"\xfe\x04", "none"),
    "clt.un": (b"\xfe\x05", "none"),
    "ldloc": (b"\xfe\x0c", "u2"),
    "ldloca": (b"\xfe\x0d", "u2"),
    "stloc": (b"\xfe\x0e", "u2"),
    "volatile.": (b"\xfe\x13", "none"),
}

# ECMA-335 element types used in signatures
ELEMENT_VOID = 0x01
ELEMENT_I4 = 0x08
ELEMENT_I8 = 0x0A
ELEMENT_R8 = 0x0D
ELEMENT_I = 0x18
_TYPE_CODES = {"void": ELEMENT_VOID, "i4": ELEMENT_I4, "i8": ELEMENT_I8, "r8": ELEMENT_R8,
               "i": ELEMENT_I}

CALLCONV_MANAGED = 0x00
CALLCONV_UNMANAGED_CDECL = 0x01
CALLCONV_UNMANAGED = 0x09           # the platform's convention, modifiers after
ELEMENT_CMOD_OPT = 0x20

# The metadata token of System.Runtime.CompilerServices.CallConvSuppressGCTransition
# in every compiled method's token scope: the backend registers that type
# first (a new DynamicMethod's own entries take the tokens before it) and
# checks it gets this token, as it does for the signatures below.
SUPPRESS_GC_TRANSITION_TOKEN = 0x02000002
LOCAL_SIG = 0x07


def _compressed(n):
    if n < 0x80:
        return bytes([n])
    if n < 0x4000:
        return bytes([0x80 | (n >> 8), n & 0xFF])
    return bytes([0xC0 | (n >> 24), (n >> 16) & 0xFF, (n >> 8) & 0xFF, n & 0xFF])


# Every calli signature defined so far, in definition order.  The backend
# registers all of them with each method in this order, so their metadata
# tokens are the same for every method (see signature_tokens).
_ALL_SIGNATURES = []


def _signature(callconv, ret, params, return_modifiers=b""):
    blob = (bytes([callconv]) + _compressed(len(params)) + return_modifiers
            + bytes([_TYPE_CODES[ret]]) + bytes(_TYPE_CODES[p] for p in params))
    if blob not in _ALL_SIGNATURES:
        _ALL_SIGNATURES.append(blob)
    return blob


# unmanaged cdecl signature -> (its thunk's signature, return type name,
# parameter type names): see thunk_signature
_THUNKS = {}


def unmanaged_signature(ret, params):
    """Blob of a standalone `unmanaged cdecl` method signature for calli."""
    blob = _signature(CALLCONV_UNMANAGED_CDECL, ret, params)
    if blob not in _THUNKS:
        _THUNKS[blob] = (managed_signature(ret, list(params) + ["i"]), ret, tuple(params))
    return blob


def thunk_signature(signature):
    """The managed signature of the thunk for an unmanaged cdecl signature:
    a method taking the same arguments and then the function's address,
    which it calls.  Compiled code calls a native function through its
    thunk from cold paths: a method with no native call of its own (no
    GC-mode switch) needs no P/Invoke frame, which RyuJIT otherwise sets up
    in the prologue of every call (reading the runtime's thread-local
    state), so small functions whose only native calls are on cold paths
    enter and leave cheaper."""
    return _THUNKS[signature][0]


def thunked_signatures():
    """(unmanaged signature, return type name, parameter type names) for
    every unmanaged cdecl signature defined so far: the thunks to build."""
    return tuple((blob, ret, params) for blob, (_, ret, params) in _THUNKS.items())


def needs_gc_transition(signature):
    return signature[0] == CALLCONV_UNMANAGED_CDECL


def unmanaged_leaf_signature(ret, params):
    """Blob of a standalone unmanaged signature for calli to a leaf function,
    one that neither runs Python code nor re-enters .NET and returns
    quickly (a float or int allocation, libm's pow).  It carries the
    CallConvSuppressGCTransition modifier: RyuJIT then calls it like a
    managed leaf, without switching the thread's GC mode, and a method
    whose only native calls are such leaves needs no P/Invoke frame (whose
    set-up reads the runtime's thread-local state).  A leaf that ran .NET
    code would abort the process, so only the functions above qualify."""
    rid = SUPPRESS_GC_TRANSITION_TOKEN & 0xFFFFFF
    modifier = bytes([ELEMENT_CMOD_OPT]) + _compressed(rid << 2)   # TypeDefOrRef: a TypeDef
    return _signature(CALLCONV_UNMANAGED, ret, params, modifier)


def managed_signature(ret, params):
    """Blob of a standalone managed (default convention) signature for calli:
    a call from one method to another inside the runtime, no transition."""
    return _signature(CALLCONV_MANAGED, ret, params)


def all_signatures():
    return tuple(_ALL_SIGNATURES)


class CilMethod:
    """A finished method body: IL with zeroed calli tokens, and what is needed
    to fill them in and describe the locals."""

    def __init__(self, il, locals_signature, signatures, token_fixups, max_stack, notes,
                 shape=None, thunk_fixups=()):
        self.il = il
        # what RyuJIT's choice of optimization level looks at (see ILBuilder)
        self.shape = shape or {}
        self.locals_signature = locals_signature
        self.signatures = signatures        # list of signature blobs
        self.token_fixups = token_fixups    # list of (il offset, signature index)
        self.thunk_fixups = thunk_fixups    # list of (il offset, unmanaged signature)
        self.max_stack = max_stack
        self.notes = notes                  # {il offset: [comment, ...]}

    def resolve(self, tokens, thunks):
        """IL bytes with the metadata token of signature i patched in, and
        the address of each thunk ({unmanaged signature: address})."""
        code = bytearray(self.il)
        for pos, index in self.token_fixups:
            struct.pack_into("<i", code, pos, tokens[index])
        for pos, signature in self.thunk_fixups:
            struct.pack_into("<q", code, pos, thunks[signature])
        return bytes(code)


cdef class ILBuilder:
    # (its fields: pyjion_clr/_cil.pxd)
    def __init__(self):
        self.code = bytearray()
        self._label_pos = []
        self._fixups = []
        self._signatures = []
        self._signature_index = {}
        self._token_fixups = []
        self._thunk_fixups = []
        self._local_types = []
        self.notes = {}
        self.instructions = 0
        self.variable_refs = 0
        self._block_ends = []
        self._last_br_end = -1
        self._last_exit_end = -1
        self._last_mark = -1
        self._marks = 0
        self._targeted = set()

    # -- labels
    cpdef int new_label(self) except -1:
        self._label_pos.append(-1)
        return len(self._label_pos) - 1

    cpdef mark(self, int label):
        if self._label_pos[label] != -1:
            raise ValueError("label %d marked twice" % label)
        if self._last_br_end == len(self.code) and self._fixups[-1][1] == label:
            # a br to the very next instruction (a fast path's exit, say)
            self._fixups.pop()
            self._block_ends.pop()
            note = self.notes.pop(len(self.code), None)
            del self.code[-5:]
            if note is not None:
                self.notes.setdefault(len(self.code), []).extend(note)
            self.instructions -= 1
        # once a label is here, the br before it must stay, and control
        # reaches what follows (the exit recorded may have been that br)
        self._last_br_end = -1
        self._last_exit_end = -1
        self._label_pos[label] = len(self.code)
        self._last_mark = len(self.code)
        self._marks += 1

    def position(self, int label):
        """Where a marked label is (-1: not marked yet)."""
        return self._label_pos[label]

    def place(self, int label, int position):
        """Mark a label where code was emitted before (the same code as
        that just rolled back: Translator.emit_cold_paths)."""
        self._label_pos[label] = position

    # -- taking back code that repeats code emitted before
    def checkpoint(self):
        """The builder's state, for emitted_since and rollback."""
        return (len(self.code), len(self._fixups), len(self._block_ends),
                len(self._token_fixups), len(self._thunk_fixups), self.instructions,
                self.variable_refs, self._marks, self._last_br_end, self._last_exit_end,
                self._last_mark)

    def emitted_since(self, tuple checkpoint):
        """The code emitted since checkpoint, as a value equal for code that
        does the same (branches by where they go); None if that cannot be
        told: a label was marked since, or a branch goes to one not yet
        marked."""
        start, fixups, _, tokens, thunks = checkpoint[:5]
        if self._marks != checkpoint[7]:
            return None
        targets = []
        for pos, label in self._fixups[fixups:]:
            if self._label_pos[label] < 0:
                return None
            targets.append((pos - start, self._label_pos[label]))
        return (bytes(self.code[start:]), tuple(targets),
                tuple((pos - start, i) for pos, i in self._token_fixups[tokens:]),
                tuple((pos - start, sig) for pos, sig in self._thunk_fixups[thunks:]))

    def rollback(self, tuple checkpoint):
        """Forget what was emitted since checkpoint (no label marked since:
        emitted_since said what it was)."""
        start = checkpoint[0]
        del self.code[start:]
        del self._fixups[checkpoint[1]:]
        del self._block_ends[checkpoint[2]:]
        del self._token_fixups[checkpoint[3]:]
        del self._thunk_fixups[checkpoint[4]:]
        self.instructions, self.variable_refs = checkpoint[5], checkpoint[6]
        self._last_br_end, self._last_exit_end, self._last_mark = checkpoint[8:]
        for pos in [pos for pos in self.notes if pos >= start]:
            del self.notes[pos]

    def reachable(self):
        """Can control reach the next instruction (by falling through or a
        label marked here)?"""
        return not self._unreachable()

    # Instructions emitted where control cannot reach (after a br or ret, no
    # label marked since: a guard known to pass, say) are dropped: RyuJIT
    # counts their blocks and instructions against its MinOpts limits too.
    cdef bint _unreachable(self):
        return self._last_exit_end == len(self.code) and self._last_mark != len(self.code)

    def is_marked(self, int label):
        return self._label_pos[label] != -1

    def is_targeted(self, int label):
        """Was a branch to the label emitted (not one dropped as
        unreachable; a br to the next instruction that mark() takes back
        still counts)?  Code only reached through an untargeted label need
        not be emitted."""
        return label in self._targeted

    # -- locals
    def new_local(self, str type_name):
        self._local_types.append(_TYPE_CODES[type_name])
        return len(self._local_types) - 1

    def note(self, str text):
        self.notes.setdefault(len(self.code), []).append(text)

    # -- instructions
    cpdef op(self, str name):
        if self._unreachable():
            return
        self.code += OPCODES[name][0]
        self.instructions += 1
        if name.startswith("ldarg"):
            self.variable_refs += 1
        elif name == "ret":
            self._block_ends.append(len(self.code))
            self._last_exit_end = len(self.code)

    cpdef ldc_i4(self, int value):
        if self._unreachable():
            return
        self.instructions += 1
        if value == 0:
            self.code += b"\x16"
        elif value == 1:
            self.code += b"\x17"
        elif value == -1:
            self.code += b"\x15"
        elif -128 <= value <= 127:
            self.code += b"\x1f" + struct.pack("<b", value)
        else:
            self.code += b"\x20" + struct.pack("<i", value)

    cpdef ldc_i8(self, value):
        if self._unreachable():
            return
        self.instructions += 1
        self.code += b"\x21" + struct.pack("<q", value)

    cpdef ldc_r8(self, double value):
        if self._unreachable():
            return
        self.instructions += 1
        self.code += b"\x23" + struct.pack("<d", value)

    cpdef ldc_ptr(self, value):
        """Push a native-int constant (an address baked into the code): an
        ldc.i8 with no conv.i after it, which RyuJIT would import as
        nothing on the 64-bit targets this builder makes code for (native
        int is its int64 there), but count against its MinOpts limit of
        instructions -- a tenth of them in large methods."""
        if self._unreachable():
            return
        self.instructions += 1
        self.code += b"\x21" + struct.pack("<q", value)

    def calli_through_thunk(self, bytes signature):
        """calli of the native function whose address and arguments are
        pushed, through the thunk for its unmanaged signature (thunk_signature):
        `ldc.i8 <thunk>; conv.i; calli <thunk's signature>`, the thunk's
        address known when the method is resolved (CilMethod.resolve)."""
        if self._unreachable():
            return
        self.instructions += 2
        self.code += b"\x21"
        self._thunk_fixups.append((len(self.code), signature))
        self.code += bytes(8) + b"\xd3"
        self.calli(thunk_signature(signature))

    def call_thunked_directly(self):
        """Every call emitted through its thunk so far made a direct calli
        in place: the thunk's `ldc.i8; conv.i` becomes `ldc.i8 0; pop` (as
        long and as many instructions, so positions, branches and the shape
        stay; RyuJIT imports the pair as nothing) and the calli's token the
        unmanaged signature's.  The translator emits calls on cold paths
        through thunks, not knowing yet whether the method will need a
        P/Invoke frame anyway (Translator.calli_native)."""
        token_at = {pos: i for i, (pos, _) in enumerate(self._token_fixups)}
        for pos, signature in self._thunk_fixups:
            assert self.code[pos + 9] == 0x29, "a thunk's address not followed by its calli"
            self.code[pos + 8] = 0x26
            self._token_fixups[token_at[pos + 10]] = (pos + 10, self._signature_slot(signature))
        self._thunk_fixups.clear()

    # the shortest encoding for each local: ldloc.0-3 / stloc.0-3, .s, long
    cpdef ldloc(self, int index):
        if self._unreachable():
            return
        self.instructions += 1
        self.variable_refs += 1
        if index < 4:
            self.code.append(0x06 + index)
        elif index < 256:
            self.code += bytes((0x11, index))
        else:
            self.code += b"\xfe\x0c" + struct.pack("<H", index)

    cpdef ldloca(self, int index):
        if self._unreachable():
            return
        self.instructions += 1
        self.variable_refs += 1
        if index < 256:
            self.code += bytes((0x12, index))
        else:
            self.code += b"\xfe\x0d" + struct.pack("<H", index)

    cpdef stloc(self, int index):
        if self._unreachable():
            return
        self.instructions += 1
        self.variable_refs += 1
        if index < 4:
            self.code.append(0x0a + index)
        elif index < 256:
            self.code += bytes((0x13, index))
        else:
            self.code += b"\xfe\x0e" + struct.pack("<H", index)

    cpdef branch(self, str name, int label):
        if self._unreachable():
            return
        self.instructions += 1
        self.code += OPCODES[name][0]
        self._targeted.add(label)
        self._fixups.append((len(self.code), label))
        self.code += b"\0\0\0\0"
        self._block_ends.append(len(self.code))
        if name == "br":
            self._last_br_end = self._last_exit_end = len(self.code)

    cpdef calli(self, bytes signature):
        if self._unreachable():
            return
        self.instructions += 1
        self.code += b"\x29"
        self._token_fixups.append((len(self.code), self._signature_slot(signature)))
        self.code += b"\0\0\0\0"

    cdef int _signature_slot(self, bytes signature) except -1:
        """The index of signature among the method's calli signatures."""
        index = self._signature_index.get(signature)
        if index is None:
            index = len(self._signatures)
            self._signatures.append(signature)
            self._signature_index[signature] = index
        return index

    def finish(self, int max_stack=16):
        # a block starts at the method's start, at each branch target and
        # after each branch or return
        leaders = {0}
        leaders.update(self._block_ends)
        for pos, label in self._fixups:
            target = self._label_pos[label]
            if target < 0:
                raise ValueError("branch to unmarked label %d" % label)
            struct.pack_into("<i", self.code, pos, target - (pos + 4))
            leaders.add(target)
        leaders.discard(len(self.code))
        locals_sig = (bytes([LOCAL_SIG]) + _compressed(len(self._local_types))
                      + bytes(self._local_types))
        shape = {"il_bytes": len(self.code), "instructions": self.instructions,
                 "variable_refs": self.variable_refs, "blocks": len(leaders),
                 "locals": len(self._local_types)}
        return CilMethod(bytes(self.code), locals_sig, list(self._signatures),
                         list(self._token_fixups), max_stack, self.notes, shape,
                         list(self._thunk_fixups))


_BY_ENCODING = {enc: (name, kind) for name, (enc, kind) in OPCODES.items()}


def disassemble(method, names=None):
    """Readable listing of a CilMethod (`names` maps constants to symbols)."""
    names = names or {}
    code = method.il
    thunk_positions = {pos for pos, _ in method.thunk_fixups}
    lines = []
    pos = 0
    targets = set()
    decoded = []
    while pos < len(code):
        start = pos
        enc = code[pos:pos + 1]
        if enc == b"\xfe":
            enc = code[pos:pos + 2]
        name, kind = _BY_ENCODING[bytes(enc)]
        pos += len(enc)
        operand = ""
        if kind == "i1":
            operand = str(struct.unpack_from("<b", code, pos)[0]); pos += 1
        elif kind == "i4":
            operand = str(struct.unpack_from("<i", code, pos)[0]); pos += 4
        elif kind == "u2":
            operand = "V_%d" % struct.unpack_from("<H", code, pos)[0]; pos += 2
        elif kind == "u1":
            operand = "V_%d" % code[pos]; pos += 1
        elif kind == "i8":
            value = struct.unpack_from("<q", code, pos)[0]
            operand = "thunk" if pos in thunk_positions else names.get(value, "0x%x" % value)
            pos += 8
        elif kind == "r8":
            operand = repr(struct.unpack_from("<d", code, pos)[0]); pos += 8
        elif kind == "token":
            pos += 4
            for fix_pos, index in method.token_fixups:
                if fix_pos == start + 1:
                    operand = "sig#%d" % index
        elif kind == "label32":
            target = pos + 4 + struct.unpack_from("<i", code, pos)[0]; pos += 4
            targets.add(target)
            operand = "IL_%04x" % target
        elif kind == "switch":
            count = struct.unpack_from("<I", code, pos)[0]; pos += 4
            base = pos + 4 * count
            dests = []
            for i in range(count):
                t = base + struct.unpack_from("<i", code, pos + 4 * i)[0]
                targets.add(t)
                dests.append("IL_%04x" % t)
            pos = base
            operand = "(" + ", ".join(dests) + ")"
        decoded.append((start, name, operand))
    for start, name, operand in decoded:
        for note in method.notes.get(start, ()):
            lines.append("            // " + note)
        lines.append("  IL_%04x:  %-10s %s" % (start, name, operand))
    return "\n".join(lines)
