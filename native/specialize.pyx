# cython: language_level=3
"""Inline fast paths: the opcodes whose common case is done in IL, behind a
guard, with the generic helper as the slow path.  A failed guard always
takes the helper, which gives the interpreter's result; a guard never lets
a wrong value through.

- LOAD_GLOBAL: a per-site cache of the value, valid while the globals and
  builtins dicts keep the versions (ma_version_tag) it was found under.
- LOAD_ATTR: a per-site cache of (type version, index) for an attribute
  kept in the instance's inline values, as the interpreter's
  LOAD_ATTR_INSTANCE_VALUE does, with up to four types per site (all
  checked inline).
- BINARY_OP +, -, *, / (and in-place forms) on two floats, two small
  ints (|v| < 2**30, one digit) or a float and a small int, and //, %, &,
  |, ^, <<, >> on two small ints (shift counts 0..32): the arithmetic
  inline (with Python's rounding); a
  float result reuses an operand the stack held the only reference to, or
  comes from the float free list; small int results are the interpreter's
  cached ints.  No call at all on these paths.  ** with a float operand:
  the C library's pow, called directly, for a positive finite base and a
  finite exponent.
- An int result of the small-int path that a BINARY_OP or COMPARE_OP takes
  next stays unboxed, an int64 in an IL local, until then: `(i + j) *
  (i + j + 1) // 2` makes no int objects (translate's deferred pushes);
  so does a float result, a double: `dx * dx + dy * dy` makes one float.
- COMPARE_OP on two floats, two small ints or a float and a small int:
  compared inline, and when a conditional jump follows, branched on
  without making a bool.
- UNARY_NOT of True or False.
- Calls the interpreter specialised to type(x), len(x) (of an exact list,
  tuple or dict) and list.append(x): done in IL, the call otherwise.
- Calls it specialised to a C function (a builtin, or a method descriptor
  called on its own type's instance, METH_O / NOARGS / FASTCALL, without
  keywords): its ml_meth called directly, as the specialised PRECALLs do
  (the recursion budget counted for O and NOARGS), not through vectorcall.
  In the loops of code compiled before the interpreter ran it warm, a
  call of a callable the code cannot name tries those conventions at run
  time (c_call_conventions).
- Operands a deferred LOAD_FAST or LOAD_CONST left in place
  (translate.Translator.defer) are read there and borrowed: no reference
  count traffic, and a borrowed float is never overwritten in place.
- An operand a LOAD_CONST of a float or one-digit int gave is known at
  compile time: no type guard, and its value is an IL literal, so RyuJIT
  folds it (`n // 2` shifts instead of dividing).
- LOAD_METHOD: a per-site cache of the method found on the type, valid
  while the type's version holds and the instance cannot shadow it.
- STORE_ATTR: the LOAD_ATTR cache, for replacing an existing value.
- LOAD_ATTR and STORE_ATTR also cache __slots__ members (type version and
  offset), as the interpreter's LOAD_ATTR_SLOT does; LOAD_ATTR caches the
  position of an attribute in an instance or module __dict__ (checked in
  the miss helper), as LOAD_ATTR_WITH_HINT does.
- FOR_ITER over a list, tuple or range iterator: the next item inline;
  unpacked right away, an enumerate over a list or tuple gives its item
  and index with no tuple made.
- BINARY_SUBSCR of a list, tuple or bytes object, STORE_SUBSCR of a list,
  by a one-digit int index in range (a negative one from the end), also
  where the interpreter gave up on the site (it takes neither of those).
- UNPACK_SEQUENCE of a tuple or list of the right length.

When the interpreter has specialised a site (bytecode.read_feedback), only
the fast paths for what it saw there are emitted: a site it gave up on (a
property, a str subscript) gets only the helper.  Arithmetic and compares
on numbers are the exception: the form the interpreter chose says what a
site saw last, not all it sees (Vector(0, 0, 1).z * 2.5 comes after two
ints were specialised), so they keep the paths for both kinds, and + - *
where it gave up (a float with an int, which it never specialises) get
that mix's path and two floats'.  Without feedback every fast path is
emitted.  Either way the guards stay: feedback shrinks the code, it never
decides a result.

The emitters are a mixin of translate.Translator and use its primitives
(stack slots, reference counting, helper calls, error stubs).
"""

import math
import sys
from collections import namedtuple

from . import _cil as cil
from ._cil cimport ILBuilder
from ._bytecode import GENERIC

SIG_FLOAT_FROM_DOUBLE = cil.unmanaged_leaf_signature("i", ["r8"])
SIG_LONG_FROM_LONGLONG = cil.unmanaged_leaf_signature("i", ["i8"])
SIG_DEALLOC = cil.unmanaged_signature("void", ["i"])
SIG_POW = cil.unmanaged_leaf_signature("r8", ["r8", "r8"])
SIG_IS_SUBTYPE = cil.unmanaged_leaf_signature("i4", ["i", "i"])
SIG_MATH_FUNCTION = cil.unmanaged_leaf_signature("r8", ["r8"])
SIG_ITERATOR_MAKER = cil.unmanaged_leaf_signature("i", ["i", "i4"])
SIG_RECURSION_EXHAUSTED = cil.unmanaged_signature("i4", ["i"])
SIG_UNPACK_INTO_LOCALS_LEAF = cil.unmanaged_leaf_signature("i4", ["i", "i", "i", "i4"])
SIG_UNPACK_INTO_LOCALS = cil.unmanaged_signature("i4", ["i", "i", "i", "i4"])
# ops.h: the most items unpacked into locals, and the flag giving the helper
# the stack's reference to the sequence
UNPACK_MAX = 255
UNPACK_OWNED = 0x10000

# C functions by their PyMethodDef flags (methodobject.h): a builtin's or
# method descriptor's ml_meth is called as one of these
METH_NOARGS = 0x0004
METH_O = 0x0008
METH_KEYWORDS = 0x0002
METH_FASTCALL = 0x0080
_C_FUNCTION_SIGNATURES = {
    METH_O: cil.unmanaged_signature("i", ["i", "i"]),           # (self, arg)
    METH_NOARGS: cil.unmanaged_signature("i", ["i", "i"]),      # (self, NULL)
    METH_FASTCALL: cil.unmanaged_signature("i", ["i", "i", "i"]),   # (self, args, nargs)
    METH_FASTCALL | METH_KEYWORDS: cil.unmanaged_signature("i", ["i", "i", "i", "i"]),
}

# Opcodes that own inline caches (site_cache.h; one each unless
# _CACHES_PER_SITE says more), laid out in bytecode order.
CACHED_OPS = frozenset(("LOAD_GLOBAL", "LOAD_ATTR", "STORE_ATTR", "LOAD_METHOD", "CALL"))

# BINARY_OP oparg (NB_* in CPython's opcode.h) -> CIL arithmetic
NB_INPLACE = 13
_ARITH = {0: "add", 10: "sub", 5: "mul", 11: "div"}
# / of two ints is a float
_FLOAT_RESULT_OF_INTS = frozenset((11,))
# Of two ints only (of floats: generic): //, %, the bitwise operations
# (never specialised by the interpreter) and shifts by 0..MAX_SHIFT
_INT_ONLY_ARITH = {2: "floordiv", 6: "mod", 1: "and", 7: "or", 12: "xor", 3: "shl", 9: "shr"}
MAX_SHIFT = 32                          # |v| < 2**30: v << 32 fits int64
ONE_DIGIT_MAX = 2 ** 30 - 1
# What a BINARY_OP result left unboxed for its reader may be (see
# translate's deferred pushes): the type it is an instance of once boxed
# (a target field), the IL type it is held in, the C function boxing it
_Unboxed = namedtuple("_Unboxed", "type_field il_type boxer boxer_signature")
UNBOXED_KINDS = {
    "int": _Unboxed("long_type", "i8", "PyLong_FromLongLong", SIG_LONG_FROM_LONGLONG),
    "float": _Unboxed("float_type", "r8", "PyFloat_FromDouble", SIG_FLOAT_FROM_DOUBLE),
}
# A result that is an int on one fast path and a float on another (a site
# without feedback) stays unboxed either way for a reader taking both: its
# slot is NULL, the value in the int's or the float's IL local of that
# depth, and an i4 tag local of the depth (number_tag) says which: 1 float.
NUMBER = "number"
UNBOXED_FORMS = frozenset(UNBOXED_KINDS) | {NUMBER}


def unboxed_as(form, kind):
    """May a value of `form` (a kind, NUMBER, or None: boxed) be left
    unboxed as `kind`?"""
    return form == kind or form == NUMBER


PY_SSIZE_T_MAX = 2 ** 63 - 1
# ** with a float operand (of two ints: generic)
NB_POWER = 8
DBL_MIN = 2.2250738585072014e-308       # the least normal double
DBL_MAX = 1.7976931348623157e+308

# COMPARE_OP oparg -> CIL producing 0/1, for (signed) ints and for floats,
# where unordered (NaN) must give False except for !=
_INT_COMPARE = {0: ("clt",), 1: ("cgt", "not"), 2: ("ceq",), 3: ("ceq", "not"),
                4: ("cgt",), 5: ("clt", "not")}
_FLOAT_COMPARE = {0: ("clt",), 1: ("cgt.un", "not"), 2: ("ceq",), 3: ("ceq", "not"),
                  4: ("cgt",), 5: ("clt.un", "not")}

# Operand kinds of the interpreter's specialised BINARY_OP and COMPARE_OP
# forms; it specialises only +, -, * and compares followed by a jump.
_SEEN_OPERANDS = {"ADD_FLOAT": "FF", "SUBTRACT_FLOAT": "FF", "MULTIPLY_FLOAT": "FF",
                  "ADD_INT": "II", "SUBTRACT_INT": "II", "MULTIPLY_INT": "II",
                  "FLOAT_JUMP": "FF", "INT_JUMP": "II"}
_SPECIALIZED_ARITH = frozenset((0, 5, 10))

# Specialised forms (bytecode.read_feedback) under which an opcode's inline
# path can serve the site; under any other, only its helper is emitted.
_INLINE_SERVES = {
    # (GENERIC: where the interpreter gave up, the site's own cache serves,
    # as where it has no feedback)
    "LOAD_ATTR": frozenset(("INSTANCE_VALUE", "SLOT", "WITH_HINT", "MODULE", GENERIC)),
    "STORE_ATTR": frozenset(("INSTANCE_VALUE", "SLOT", GENERIC)),
    "LOAD_METHOD": frozenset(("WITH_VALUES", "NO_DICT", "WITH_DICT", "MODULE", GENERIC)),
    # (where the interpreter gave up: a negative index, a bytes object)
    "BINARY_SUBSCR": frozenset(("LIST_INT", "TUPLE_INT", GENERIC)),
    "STORE_SUBSCR": frozenset(("LIST_INT", GENERIC)),
    "UNPACK_SEQUENCE": frozenset(("TWO_TUPLE", "TUPLE", "LIST")),
}
_TYPE_KEYED_OPS = frozenset(("LOAD_ATTR", "STORE_ATTR", "LOAD_METHOD"))
# BINARY_SUBSCR's inline paths by its feedback: the one container type the
# interpreter specialised the site for (a bytes object, or another type
# later, takes the helper)
_SUBSCRIPTED_TYPES = {"LIST_INT": ("list",), "TUPLE_INT": ("tuple",)}
TUPLES_ONLY = object()      # item_address: the sequence is a tuple
# ... and those under which an instance's own __dict__ is never involved
_NO_INSTANCE_DICT = frozenset(("INSTANCE_VALUE", "SLOT", "WITH_VALUES", "NO_DICT"))

_FUSABLE_JUMPS = {"POP_JUMP_FORWARD_IF_TRUE": True, "POP_JUMP_BACKWARD_IF_TRUE": True,
                  "POP_JUMP_FORWARD_IF_FALSE": False, "POP_JUMP_BACKWARD_IF_FALSE": False}


# inline caches a site takes (one unless said here): a CALL site's four
# call records take two (direct_call.h)
_CACHES_PER_SITE = {"CALL": 2}


def count_cached_sites(instrs):
    return sum(_CACHES_PER_SITE.get(ins.name, 1) for ins in instrs if ins.name in CACHED_OPS)


class FastPaths:
    """Mixin: requires self.il, self.t and the Translator primitives."""

    def init_fast_paths(self):
        cdef ILBuilder il = self.il
        self.v_fa = il.new_local("r8")
        self.v_fb = il.new_local("r8")
        self.v_ia = il.new_local("i8")
        self.v_ib = il.new_local("i8")
        self.v_rem = il.new_local("i8")
        self.v_t2 = il.new_local("i")
        self.v_t3 = il.new_local("i")
        self.v_address = il.new_local("i")
        self.v_cmp = il.new_local("i4")
        self.v_way = il.new_local("i")
        self.v_keys = il.new_local("i")
        self.v_entry = il.new_local("i")
        self.fused_through = -1             # index of the last instruction emitted with
                                            # the one before it (a jump with its compare)
        self.unboxed_locals = {}            # (stack depth, kind) -> IL local: unboxed_local
        self.unboxed_operands = {}          # v_t0 / v_t1 -> (depth, kind), while one is unboxed
        self.unboxed_result = None          # (depth, kind) of the value an op just left unboxed
        self.constant_operands = {}         # v_t0 / v_t1 -> its value, a LOAD_CONST's
        # the constants whose type and value the code may assume: floats and
        # one-digit ints (by address, as a deferred LOAD_CONST names them)
        self.known_constants = {id(c): c for c in self.code.co_consts
                                if type(c) is float
                                or (type(c) is int and abs(c) <= ONE_DIGIT_MAX)}
        size = self.t["site_cache_size"]
        base = self.t["site_caches"]
        self.site_cache = {}
        for ins in self.a.instrs:
            if ins.name in CACHED_OPS:
                self.site_cache[ins.index] = base
                base += size * _CACHES_PER_SITE.get(ins.name, 1)

    # --------------------------------------------------------- feedback
    def inline_serves(self, ins):
        """Is the inline path of ins worth emitting, by the feedback?  At
        compaction level 3 attribute sites without the interpreter's cache
        take their helper, which searches the site's cache in C: an inline
        search is 150-250 IL instructions (four cache ways, dict probes),
        and a function such as hexiom's constraint_pass, left to the
        interpreter, makes every call through the vectorcall path (the
        interpreter calls inline only without a PEP 523 hook)."""
        if self.compact >= 3 and ins.name in _TYPE_KEYED_OPS and ins.cached is None:
            return False
        return ins.seen is None or ins.seen in _INLINE_SERVES[ins.name]

    def uses_interpreter_cache(self, ins):
        """Is what the interpreter's cache for ins says (ins.cached) checked
        first, before the site's own cache?  Wherever there is one: its
        guards compare with constants."""
        return ins.cached is not None

    def searches_site_cache(self, interpreter_cache_checked):
        """Does a site search its own cache inline (the four ways of
        site_cache.h, each kind of entry)?  Not after a check of the
        interpreter's cache, when the translation was asked for code that
        small (site_caches_inline: translate.attempts): there a failed
        guard goes to the site's helper, which searches the same cache in
        C -- a call more where a site sees several types, a sixth of the
        blocks where it sees one."""
        return self.site_caches_inline or not interpreter_cache_checked

    def instance_dict_possible(self, ins):
        return ins.seen not in _NO_INSTANCE_DICT

    def number_kinds(self, ins):
        """The operand kinds to emit fast paths for at a +, - or * or a
        compare: two floats, two small ints, a float with a small int --
        as unspecialised_kinds, whatever the interpreter specialised the
        site for, as its form says only what the site saw last
        (Vector(0, 0, 1).z * 2.5 comes after two ints were specialised);
        where it gave up (GENERIC: it specialises no mix of a float and an
        int), not two ints; + - * without feedback, not the mix (the loops
        compiled at their first call are the largest code: chaos's
        Spline.__call__ would pass RyuJIT's 2,000 blocks).  Compact code
        (level 2) keeps just the kind the interpreter saw, if it saw one,
        not unspecialised_kinds' two small ints."""
        seen = _SEEN_OPERANDS.get(ins.seen)
        if seen is not None and self.compact >= 2:
            return (seen,)
        if ins.seen == GENERIC:
            return self.unspecialised_kinds(("FF", "MX"), mix_likely=True)
        if ins.seen is None and ins.name == "BINARY_OP":
            return self.unspecialised_kinds(("FF", "II"))
        return self.unspecialised_kinds(("FF", "II", "MX"))

    def unspecialised_kinds(self, kinds, mix_likely=False):
        """The operand kinds to emit fast paths for at a site without
        feedback: all of them; in compact code (a function too large
        otherwise) at level 1 not a float with an int ("MX") -- unless that
        mix is likely (mix_likely): where the interpreter ran the site and
        gave up on it (GENERIC), as it does on that mix, and at a /: chaos's
        Spline.__call__, recompiled with feedback at level 1, kept `(ua -
        u) / (ua - ub)` and lost the paths it takes -- nor, at any level,
        enumerate pairs (op_FOR_ITER); at level 2 only two small ints where
        that is one of them.  Results left unboxed stay at every level: they
        make the code smaller (no boxing, no in-place reuse)."""
        if self.compact >= 2 and "II" in kinds:
            return ("II",)
        if (self.compact >= 1 and "MX" in kinds and len(kinds) > 1
                and not (mix_likely and self.compact == 1)):
            return tuple(k for k in kinds if k != "MX")
        return kinds

    # ---------------------------------------------------------- readers
    def load_field(self, v, offset, kind):
        """Push the `kind` field at `offset` of the object in IL local v."""
        cdef ILBuilder il = self.il
        il.ldloc(v)
        if offset:
            il.ldc_i4(offset)
            il.op("add")
        il.op("ldind." + kind)

    def branch_unless_type(self, v, type_address, label):
        cdef ILBuilder il = self.il
        if v in self.constant_operands:
            known = self.constant_operands[v]
            if type_address != self.t["float_type" if type(known) is float else "long_type"]:
                il.branch("br", label)
            return
        checked = None
        unboxed = self.unboxed_kind(v)
        if unboxed == NUMBER:
            # NULL: unboxed, of the type its tag says
            checked, is_object = il.new_label(), il.new_label()
            kind = next((k for k, form in UNBOXED_KINDS.items()
                         if type_address == self.t[form.type_field]), None)
            il.ldloc(v)
            il.branch("brtrue", is_object)
            if kind is not None:
                il.ldloc(self.number_tag(self.unboxed_operands[v][0]))
                il.branch("brtrue" if kind == "float" else "brfalse", checked)
            il.branch("br", label)
            il.mark(is_object)
        elif unboxed is not None:
            # NULL: unboxed, of that kind's type
            checked = il.new_label()
            il.ldloc(v)
            il.branch("brfalse", checked if type_address == self.t[UNBOXED_KINDS[unboxed].type_field] else label)
        self.load_field(v, self.t["ob_type"], "i")
        il.ldc_ptr(type_address)
        il.branch("bne.un", label)
        if checked is not None:
            il.mark(checked)

    def branch_unless_small_int(self, v, label):
        """Go to label unless the int in v has at most one digit (an
        unboxed NUMBER: v is known to be an int)."""
        cdef ILBuilder il = self.il
        if v in self.constant_operands:
            return                          # known_constants: one digit
        if unboxed_as(self.unboxed_kind(v), "int"):
            def unboxed():
                # |value| < 2**30, as one digit holds
                self.load_unboxed(v, "int")
                il.ldc_i8(ONE_DIGIT_MAX)
                il.op("add")
                il.ldc_i8(2 * ONE_DIGIT_MAX)
                il.branch("bgt.un", label)
            self.unboxed_or_object(v, unboxed, lambda: self.branch_unless_small_int(v, label))
            return
        self.push_digit_count_bound(v)
        il.branch("bgt.un", label)

    def push_digit_count_bound(self, v):
        """Push ob_size + 1 of the int in v, then 2: the first is above the
        second (unsigned) if the int has more than one digit."""
        cdef ILBuilder il = self.il
        self.load_field(v, self.t["var_size"], "i8")
        il.op("ldc.i4.1")
        il.op("conv.i8")
        il.op("add")
        il.ldc_i4(2)
        il.op("conv.i8")

    def load_small_int(self, v):
        """Push the value of a one-digit int as int64: size (-1, 0, 1) * digit
        (of an unboxed one, its value)."""
        cdef ILBuilder il = self.il
        if type(self.constant_operands.get(v)) is int:
            # a literal: RyuJIT folds it (a division by it becomes shifts)
            il.ldc_i8(self.constant_operands[v])
            return
        if unboxed_as(self.unboxed_kind(v), "int"):
            self.unboxed_or_object(v, lambda: self.load_unboxed(v, "int"),
                                   lambda: self.load_small_int(v))
            return
        self.load_field(v, self.t["var_size"], "i8")
        self.load_field(v, self.t["long_digit0"], "u4")
        il.op("conv.u8")
        il.op("mul")

    def begin_type_keyed_site(self, ins, depth):
        """Shared start of STORE_ATTR and LOAD_METHOD: the owner (top of
        stack) into v_t0.  Returns (cache address, miss label, done label);
        find_cache_entry follows."""
        cdef ILBuilder il = self.il
        self.load_stack_value(depth - 1)
        il.stloc(self.v_t0)
        return self.site_cache[ins.index], il.new_label(), il.new_label()

    def branch_unless_type_version(self, v, version, label):
        """Go to label unless the type of the object in v has the version
        `version` (a valid one, non-zero: a type loses its version when
        changed, and versions are never reused)."""
        cdef ILBuilder il = self.il
        self.load_type_version_of_type(v)
        self.ldc_u4(version)
        il.branch("bne.un", label)

    def ldc_u4(self, value):
        """Push a 32-bit unsigned constant (a version), as ldind.u4 leaves
        one on the IL stack: in an int32's bits."""
        cdef ILBuilder il = self.il
        il.ldc_i4(value - 2 ** 32 if value >= 2 ** 31 else value)

    def known_attribute_address(self, ins, v, label, describe=False):
        """Push where the attribute the interpreter's cache for ins
        (ins.cached, an AttrCache) locates is stored for the object in v
        (with `describe`, set v_ia as a cache entry's guard2 would say it,
        as attribute_address does); go to label unless v's type has the
        cached version, or if the object has no inline values any more
        (its __dict__ was made)."""
        cdef ILBuilder il = self.il
        index = ins.cached.index
        self.branch_unless_type_version(v, ins.cached.type_version, label)
        if describe:
            il.ldc_i8(index | (self.t["site_slot_flag"] if ins.seen == "SLOT" else 0))
            il.stloc(self.v_ia)
        if ins.seen == "SLOT":
            il.ldloc(v)
            il.ldc_i4(index)
            il.op("add")
            return
        self.load_field(v, self.t["values_from_object"], "i")
        il.stloc(self.v_t3)
        il.ldloc(self.v_t3)
        il.branch("brfalse", label)
        il.ldloc(self.v_t3)
        il.ldc_i4(8 * index)
        il.op("add")

    def find_cache_entry(self, v, cache, label):
        """Set v_way to the address of the cache entry for the type of the
        object in v (any of the site's ways, the first checked first); go to
        label if there is none.  Entries are keyed by type version, and a
        type without a valid version (0) never matches."""
        cdef ILBuilder il = self.il
        self.load_type_version_of_type(v)
        il.stloc(self.v_cmp)
        il.ldloc(self.v_cmp)
        il.branch("brfalse", label)
        self.find_way(cache, label)

    def load_type_version_of_type(self, v):
        """Push Py_TYPE(v)->tp_version_tag (unsigned) of the object in v."""
        cdef ILBuilder il = self.il
        self.load_field(v, self.t["ob_type"], "i")
        il.ldc_i4(self.t["type_version"])
        il.op("add")
        il.op("ldind.u4")

    def find_way(self, cache, label, key_bias=0):
        """Set v_way to the site's cache entry whose guard1 is the type
        version in v_cmp plus key_bias; go to label if none is."""
        cdef ILBuilder il = self.il
        found = il.new_label()
        for way in range(self.t["site_cache_ways"]):
            entry = cache + way * self.t["site_entry_size"]
            next_way = il.new_label()
            il.ldc_ptr(entry + self.t["site_cache_guard1"])
            il.op("ldind.i8")               # all 64 bits: class entries differ
            il.ldloc(self.v_cmp)
            il.op("conv.u8")
            if key_bias:
                il.ldc_i8(key_bias)
                il.op("add")
            il.branch("bne.un", next_way)
            il.ldc_ptr(entry)
            il.stloc(self.v_way)
            il.branch("br", found)
            il.mark(next_way)
        il.branch("br", label)
        il.mark(found)

    def load_entry_field(self, field):
        """Push the cache entry field (site_cache_guard2, ...) of v_way."""
        cdef ILBuilder il = self.il
        il.ldloc(self.v_way)
        il.ldc_i4(self.t[field])
        il.op("add")
        il.op("ldind.i8" if field != "site_cache_value" else "ldind.i")

    def push_keys_indices(self):
        """Push the address of the hash table of the keys object in v_keys."""
        cdef ILBuilder il = self.il
        il.ldloc(self.v_keys)
        il.ldc_i4(self.t["keys_indices"])
        il.op("add")

    def push_keys_entries(self):
        """Push the address of the entries of the str-keyed keys object in
        v_keys: they follow 2**dk_log2_index_bytes bytes of indices."""
        cdef ILBuilder il = self.il
        self.push_keys_indices()
        il.ldc_i8(1)
        self.load_field(self.v_keys, self.t["keys_log2_index_bytes"], "u1")
        il.op("shl")
        il.op("conv.i")
        il.op("add")

    def dict_entry_value(self, v_dict, v_index, name, result, label):
        """result = the value (borrowed) of the entry at index v_index (i8)
        of the dict in v_dict, if that entry holds the str `name` (an
        interned name: compared by identity); go to label if it does not,
        or its value is gone.  A split dict's value is in its ma_values."""
        cdef ILBuilder il = self.il
        t = self.t
        combined, have = il.new_label(), il.new_label()
        self.load_field(v_dict, t["dict_keys"], "i")
        il.stloc(self.v_keys)
        self.load_field(self.v_keys, t["keys_kind"], "u1")
        il.ldc_i4(t["keys_kind_general"])
        il.branch("beq", label)
        il.ldloc(v_index)
        self.load_field(self.v_keys, t["keys_nentries"], "i8")
        il.branch("bge.un", label)
        self.push_keys_entries()
        il.ldloc(v_index)
        il.ldc_i8(t["unicode_entry_size"])
        il.op("mul")
        il.op("conv.i")
        il.op("add")
        il.stloc(self.v_entry)
        self.load_field(self.v_entry, t["entry_key"], "i")
        il.ldc_ptr(name)
        il.branch("bne.un", label)
        self.load_field(v_dict, t["dict_values"], "i")
        il.stloc(result)
        il.ldloc(result)
        il.branch("brfalse", combined)
        il.ldloc(result)
        il.ldloc(v_index)
        il.ldc_i8(self.ptr)
        il.op("mul")
        il.op("conv.i")
        il.op("add")
        il.op("ldind.i")
        il.stloc(result)
        il.branch("br", have)
        il.mark(combined)
        self.load_field(self.v_entry, t["entry_value"], "i")
        il.stloc(result)
        il.mark(have)
        il.ldloc(result)
        il.branch("brfalse", label)

    def branch_unless_absent(self, v_dict, name, label):
        """Go to label unless the str `name` is certainly absent from the
        dict in v_dict: a probe of its hash table as the dict lookup does
        (keys by identity, names being interned), up to an empty slot.  A
        key with the name's hash, general keys, or a table too big for
        one-byte indices also go to label."""
        cdef ILBuilder il = self.il
        t = self.t
        probe, step, absent = il.new_label(), il.new_label(), il.new_label()
        name_hash = hash(name)
        self.load_field(v_dict, t["dict_keys"], "i")
        il.stloc(self.v_keys)
        self.load_field(self.v_keys, t["keys_kind"], "u1")
        il.ldc_i4(t["keys_kind_general"])
        il.branch("beq", label)
        self.load_field(self.v_keys, t["keys_log2_index_bytes"], "u1")
        self.load_field(self.v_keys, t["keys_log2_size"], "u1")
        il.branch("bne.un", label)          # indices wider than a byte
        # v_rem = mask, v_ib = perturb, v_ia = slot
        il.ldc_i8(1)
        self.load_field(self.v_keys, t["keys_log2_size"], "u1")
        il.op("shl")
        il.ldc_i8(1)
        il.op("sub")
        il.stloc(self.v_rem)
        il.ldc_i8(name_hash)
        il.stloc(self.v_ib)
        il.ldc_i8(name_hash)
        il.ldloc(self.v_rem)
        il.op("and")
        il.stloc(self.v_ia)
        il.mark(probe)
        self.push_keys_indices()
        il.ldloc(self.v_ia)
        il.op("conv.i")
        il.op("add")
        il.op("ldind.i1")
        il.stloc(self.v_cmp)
        il.ldloc(self.v_cmp)
        il.ldc_i4(-1)
        il.branch("beq", absent)            # DKIX_EMPTY
        il.ldloc(self.v_cmp)
        il.ldc_i4(0)
        il.branch("blt", step)              # DKIX_DUMMY
        # the entry's key: entries follow the 2**log2_size one-byte indices
        self.push_keys_indices()
        il.ldloc(self.v_rem)
        il.op("conv.i")
        il.op("add")
        il.op("ldc.i4.1")
        il.op("add")
        il.ldloc(self.v_cmp)
        il.ldc_i4(t["unicode_entry_size"])
        il.op("mul")
        il.op("add")
        il.ldc_i4(t["entry_key"])
        il.op("add")
        il.op("ldind.i")
        il.stloc(self.v_entry)
        il.ldloc(self.v_entry)
        il.ldc_ptr(id(name))
        il.branch("beq", label)             # present
        self.load_field(self.v_entry, t["str_hash"], "i8")
        il.ldc_i8(name_hash)
        il.branch("beq", label)             # an equal key, maybe
        il.mark(step)
        il.ldloc(self.v_ib)
        il.ldc_i4(5)
        il.op("shr.un")
        il.stloc(self.v_ib)
        il.ldloc(self.v_ia)
        il.ldc_i8(5)
        il.op("mul")
        il.ldloc(self.v_ib)
        il.op("add")
        il.ldc_i8(1)
        il.op("add")
        il.ldloc(self.v_rem)
        il.op("and")
        il.stloc(self.v_ia)
        il.branch("br", probe)
        il.mark(absent)

    def attribute_address(self, v, label, in_dict=None):
        """Push the address where the attribute the cache entry (v_way)
        describes is stored for the object in v: a __slots__ member (offset
        flagged in guard2) or an inline-values slot (index in guard2); go to
        label if the object has no inline values any more, and to in_dict
        (default: label) if the entry is of the __dict__ kind."""
        cdef ILBuilder il = self.il
        in_slot = il.new_label()
        have = il.new_label()
        self.load_entry_field("site_cache_guard2")
        il.stloc(self.v_ia)
        il.ldloc(self.v_ia)
        il.ldc_i8(self.t["site_dict_flag"])
        il.op("and")
        il.branch("brtrue", in_dict if in_dict is not None else label)
        il.ldloc(self.v_ia)
        il.ldc_i8(self.t["site_slot_flag"])
        il.op("and")
        il.branch("brtrue", in_slot)
        self.load_field(v, self.t["values_from_object"], "i")
        il.stloc(self.v_t3)
        il.ldloc(self.v_t3)
        il.branch("brfalse", label)
        il.ldloc(self.v_t3)
        il.ldloc(self.v_ia)
        il.op("conv.i")
        il.ldc_i4(3)
        il.op("shl")
        il.op("add")
        il.branch("br", have)
        il.mark(in_slot)
        il.ldloc(v)
        il.ldloc(self.v_ia)
        il.ldc_i8(self.t["site_dict_flag"] - 1)
        il.op("and")
        il.op("conv.i")
        il.op("add")
        il.mark(have)

    def classify_operands(self, labels, generic, ints_first=False):
        """Dispatch on the kinds of v_t0 (left) and v_t1 (right): two exact
        floats go to labels["FF"], two one-digit ints to labels["II"], a
        float with a one-digit int (either way round) to labels["MX"]; a
        kind missing from `labels`, and any other pair, go to generic.
        Floats are tested for first, ints if the site saw ints."""
        if all(v not in self.constant_operands and self.unboxed_kind(v) is None
               for v in (self.v_t0, self.v_t1)):
            self.classify_object_pairs(labels, generic, ints_first)
            return
        ff, ii, mx = (labels.get(kind, generic) for kind in ("FF", "II", "MX"))
        # per kind of left operand: its test, then where a float or an int
        # on the right leads
        sides = [(self.branch_unless_float, ff, mx), (self.branch_unless_one_digit_int, mx, ii)]
        self.branch_in_turn(self.v_t0, sides, generic, ints_first,
                            lambda if_float, if_int: self.branch_in_turn(
                                self.v_t1, [(self.branch_unless_float, if_float),
                                            (self.branch_unless_one_digit_int, if_int)],
                                generic, ints_first, None))

    def classify_object_pairs(self, labels, generic, ints_first):
        """classify_operands for two objects (neither a constant nor
        unboxed): each pair tested at once, in a branch or two, where
        testing operand by operand takes up to a dozen (RyuJIT's limits
        count blocks)."""
        cdef ILBuilder il = self.il
        pairs = [("FF", self.branch_unless_floats), ("II", self.branch_unless_one_digit_ints)]
        tests = [(kind, test) for kind, test in (pairs[::-1] if ints_first else pairs)
                 if kind in labels]
        if "MX" in labels:
            tests.append(("MX", self.branch_unless_mix))
        for n, (kind, test) in enumerate(tests):
            failed = generic if n == len(tests) - 1 else il.new_label()
            test(failed)
            il.branch("br", labels[kind])
            if failed != generic:
                il.mark(failed)

    def branch_unless_types(self, type_address, label):
        """Go to label unless both v_t0 and v_t1 are exactly of the type."""
        cdef ILBuilder il = self.il
        for v in (self.v_t0, self.v_t1):
            self.load_field(v, self.t["ob_type"], "i")
            il.ldc_ptr(type_address)
            il.op("xor")
        il.op("or")
        il.branch("brtrue", label)

    def branch_unless_floats(self, label):
        self.branch_unless_types(self.t["float_type"], label)

    def push_is_type(self, v, type_address):
        """Push 1 if the object in v is exactly of the type, else 0."""
        cdef ILBuilder il = self.il
        self.load_field(v, self.t["ob_type"], "i")
        il.ldc_ptr(type_address)
        il.op("ceq")

    def branch_unless_mix(self, label):
        """Go to label unless one of v_t0 and v_t1 is a float and the other
        an int of at most one digit."""
        cdef ILBuilder il = self.il
        t = self.t
        for first, second in ((self.v_t0, self.v_t1), (self.v_t1, self.v_t0)):
            self.push_is_type(first, t["float_type"])
            self.push_is_type(second, t["long_type"])
            il.op("and")
        il.op("or")
        il.branch("brfalse", label)
        # the int's size (a float's ob_size is its value's bits: not read)
        for v in (self.v_t0, self.v_t1):
            self.push_is_type(v, t["long_type"])
            self.push_outside_one_digit(v)
            il.op("and")
        il.op("or")
        il.branch("brtrue", label)

    def push_outside_one_digit(self, v):
        """Push 1 if the int in v has more than one digit, else 0."""
        cdef ILBuilder il = self.il
        self.push_digit_count_bound(v)
        il.op("cgt.un")

    def branch_unless_one_digit_ints(self, label):
        """Go to label unless v_t0 and v_t1 are both ints of at most one
        digit (ob_size -1, 0 or 1)."""
        cdef ILBuilder il = self.il
        self.branch_unless_types(self.t["long_type"], label)
        for v in (self.v_t0, self.v_t1):
            self.push_outside_one_digit(v)
        il.op("or")
        il.branch("brtrue", label)

    def branch_in_turn(self, v, cases, generic, reverse, then):
        """Test v against each of `cases` (test, targets...) in turn (in
        reverse if asked), skipping those whose targets are all generic:
        the first it passes goes on to then(*targets), or without `then` to
        its one target; failing all, to generic."""
        cdef ILBuilder il = self.il
        cases = [case for case in (cases[::-1] if reverse else cases)
                 if any(target != generic for target in case[1:])]
        for n, (test, *targets) in enumerate(cases):
            failed = generic if n == len(cases) - 1 else il.new_label()
            test(v, failed)
            if then is None:
                il.branch("br", targets[0])
            else:
                then(*targets)
            if failed != generic:
                il.mark(failed)
        if not cases:
            il.branch("br", generic)

    def branch_unless_float(self, v, label):
        self.branch_unless_type(v, self.t["float_type"], label)

    def branch_unless_one_digit_int(self, v, label):
        self.branch_unless_type(v, self.t["long_type"], label)
        self.branch_unless_small_int(v, label)

    def load_as_double(self, v, kind):
        """Push the value of v (kind "F": a float, "I": a small int, "N":
        either, told apart here) as a double; a one-digit int converts
        exactly."""
        cdef ILBuilder il = self.il
        if v in self.constant_operands:
            il.ldc_r8(float(self.constant_operands[v]))
            return
        unboxed = self.unboxed_kind(v)
        if unboxed is not None and kind != "I":
            # an unboxed int has one digit: classify_operands checked
            as_float = unboxed == "float" or unboxed == NUMBER and kind == "F"
            if as_float or kind == "N":
                self.unboxed_or_object(v, lambda: self.load_unboxed(v, "float" if as_float else "double"),
                                       lambda: self.load_as_double(v, kind))
                return
        if kind == "F":
            self.load_field(v, self.t["float_value"], "r8")
        elif kind == "I":
            self.load_small_int(v)
            il.op("conv.r8")
        else:
            def is_float():
                self.load_field(v, self.t["ob_type"], "i")
                il.ldc_ptr(self.t["float_type"])
                il.op("ceq")
            self.either_way(is_float, lambda: self.load_as_double(v, "F"),
                            lambda: self.load_as_double(v, "I"))

    def either_way(self, push_condition, if_true, if_false):
        """Code of if_true() or of if_false(), by the i4 condition
        push_condition() pushes; both continue after."""
        cdef ILBuilder il = self.il
        other, done = il.new_label(), il.new_label()
        push_condition()
        il.branch("brfalse", other)
        if_true()
        il.branch("br", done)
        il.mark(other)
        if_false()
        il.mark(done)

    def unboxed_kind(self, v):
        """"int", "float" or NUMBER if operand v may be unboxed (NULL), else
        None."""
        return self.unboxed_operands.get(v, (None, None))[1]

    def unboxed_or_object(self, v, unboxed, boxed):
        """Code for an operand that may be unboxed: unboxed() where v is
        NULL, else boxed() with v an object (the caller's own emitter, v no
        longer taken for unboxed meanwhile); both continue after."""
        cdef ILBuilder il = self.il
        is_object, done = il.new_label(), il.new_label()
        il.ldloc(v)
        il.branch("brtrue", is_object)
        unboxed()
        il.branch("br", done)
        il.mark(is_object)
        where = self.unboxed_operands.pop(v)
        boxed()
        self.unboxed_operands[v] = where
        il.mark(done)

    def load_unboxed(self, v, kind):
        """Push the value of operand v, which is unboxed (NULL), as `kind`:
        "int" or "float" (what it is known to be), or "double" (either,
        converted)."""
        cdef ILBuilder il = self.il
        depth, form = self.unboxed_operands[v]
        if kind != "double":
            il.ldloc(self.unboxed_local(depth, kind))
        elif form != NUMBER:
            il.ldloc(self.unboxed_local(depth, form))
            if form == "int":
                il.op("conv.r8")
        else:
            def int_as_double():
                il.ldloc(self.unboxed_local(depth, "int"))
                il.op("conv.r8")
            self.either_way(lambda: il.ldloc(self.number_tag(depth)),
                            lambda: il.ldloc(self.unboxed_local(depth, "float")), int_as_double)

    def forget_operands(self):
        """What load_operands knew of v_t0 and v_t1 holds only for the
        instruction (or cold path) that loaded them."""
        self.unboxed_operands, self.constant_operands = {}, {}

    def load_operands(self, depth):
        """The two operands of a binary instruction into v_t0 and v_t1,
        noting which are borrowed (deferred pushes: not the stack's to
        release or to reuse), which may be unboxed (NULL, the value in
        unboxed_local(depth, kind)) and which are constants known now
        (constant_operands: known_constants' floats and one-digit ints)."""
        cdef ILBuilder il = self.il
        self.borrowed, self.unboxed_operands, self.constant_operands = {}, {}, {}
        for v, d in ((self.v_t0, depth - 2), (self.v_t1, depth - 1)):
            deferred = self.deferred.get(d, ("",))
            unboxed = deferred[0] in UNBOXED_FORMS
            if deferred[0] == "const" and deferred[1] in self.known_constants:
                self.constant_operands[v] = self.known_constants[deferred[1]]
            if unboxed:
                self.load_slot(d)
                self.unboxed_operands[v] = (d, deferred[0])
            else:
                self.load_stack_value(d)
            il.stloc(v)
            self.borrowed[v] = self.is_deferred(d) and not unboxed

    def replace_operands(self, depth, left_kind, right_kind):
        """The new reference in v_t2 replaces the operands v_t0, v_t1 (of
        the kinds release_operand takes) on the stack."""
        cdef ILBuilder il = self.il
        self.release_operand(self.v_t0, left_kind)
        self.release_operand(self.v_t1, right_kind)
        self.slot_addr(depth - 2)
        il.ldloc(self.v_t2)
        il.op("stind.i")

    def release_operand(self, v, kind):
        """Py_DECREF of an operand (unless borrowed, or unboxed: NULL): "F"
        an exact float, anything else any object."""
        cdef ILBuilder il = self.il
        if self.borrowed[v]:
            return
        if kind == "F":
            # an unboxed int is not a float: the guards excluded NULL
            unboxed = il.new_label()
            if unboxed_as(self.unboxed_kind(v), "float"):
                il.ldloc(v)
                il.branch("brfalse", unboxed)
            self.decref_float(v)
            il.mark(unboxed)
        else:
            self.decref_local(v, nullable=v in self.unboxed_operands)

    # ------------------------------------------------------ LOAD_GLOBAL
    def op_LOAD_GLOBAL(self, ins, depth):
        """The value from the entry the first cache entry points at (in
        globals, or in builtins while the globals' keys version vouches
        that globals lack the name), else the value the second entry
        holds while both dicts keep their versions (site_cache.h)."""
        cdef ILBuilder il = self.il
        cache = self.site_cache[ins.index]
        name = id(self.code.co_names[ins.oparg >> 1])
        miss, have, done = il.new_label(), il.new_label(), il.new_label()
        known = self.global_cache_current(ins)
        if known:
            self.known_global(ins, have)
        if self.searches_site_cache(known):
            self.global_from_site_cache(ins, cache, name, have, miss)
        else:
            il.branch("br", miss)
        il.mark(have)
        self.incref_local(self.v_t0)
        if ins.oparg & 1:
            self.slot_addr(depth)
            il.ldc_ptr(0)
            il.op("stind.i")
        self.slot_addr(depth + (ins.oparg & 1))
        il.ldloc(self.v_t0)
        il.op("stind.i")
        il.branch("br", done)
        self.call_op_out_of_line(miss, done, "load_global_cached", ins, depth, depth, aux=cache)
        il.mark(done)

    def global_from_site_cache(self, ins, cache, name, have, miss):
        """v_t0 = the value the site's cache finds (see op_LOAD_GLOBAL) and
        go to have; else go to miss."""
        cdef ILBuilder il = self.il
        t = self.t
        lookup, keyed_miss = il.new_label(), il.new_label()
        il.ldc_ptr(cache + t["site_cache_guard2"])
        il.op("ldind.i8")
        il.stloc(self.v_ia)
        self.frame_offset(t["frame_globals"])
        il.op("ldind.i")
        il.stloc(self.v_t3)
        il.ldloc(self.v_ia)
        il.ldc_i8(t["site_builtin_flag"])
        il.op("and")
        il.branch("brfalse", lookup)
        self.load_field(self.v_t3, t["dict_keys"], "i")
        il.ldc_i4(t["keys_version"])
        il.op("add")
        il.op("ldind.u4")
        il.op("conv.u8")
        il.ldc_ptr(cache + t["site_cache_guard1"])
        il.op("ldind.i8")
        il.branch("bne.un", keyed_miss)
        il.ldloc(self.v_ia)
        il.ldc_i8(t["site_builtin_flag"] - 1)
        il.op("and")
        il.stloc(self.v_ia)
        self.frame_offset(t["frame_builtins"])
        il.op("ldind.i")
        il.stloc(self.v_t3)
        il.mark(lookup)
        self.branch_unless_type(self.v_t3, t["dict_type"], keyed_miss)
        self.dict_entry_value(self.v_t3, self.v_ia, name, self.v_t0, keyed_miss)
        il.branch("br", have)
        il.mark(keyed_miss)
        versioned = cache + t["site_entry_size"]
        for frame_field, guard in (("frame_globals", "site_cache_guard1"),
                                   ("frame_builtins", "site_cache_guard2")):
            self.frame_offset(t[frame_field])
            il.op("ldind.i")
            il.ldc_i4(t["dict_version"])
            il.op("add")
            il.op("ldind.i8")
            il.ldc_ptr(versioned + t[guard])
            il.op("ldind.i8")
            il.branch("bne.un", miss)
        il.ldc_ptr(versioned + t["site_cache_value"])
        il.op("ldind.i")
        il.stloc(self.v_t0)
        il.branch("br", have)

    def global_cache_current(self, ins):
        """Do the keys versions in the interpreter's cache for a LOAD_GLOBAL
        still hold for the globals (and builtins) the code runs with?  A
        module that defines a name after the interpreter specialised its
        code (say, at the top level of a script) leaves them out of date,
        and the interpreter would specialise again; compiled code can
        not, and would pay for the failing guards on every run."""
        cached = ins.cached
        return (self.uses_interpreter_cache(ins)
                and cached.module_keys_version == self.t["globals_keys_version"]
                and (ins.seen != "BUILTIN"
                     or cached.builtin_keys_version == self.t["builtins_keys_version"]))

    def known_global(self, ins, have):
        """v_t0 = the value in the entry the interpreter's cache for ins (a
        GlobalCache) points at, and go to have, while its guards hold: the
        globals' keys (and for a builtin, the builtins' keys too) at the
        versions it found them, and the entry not emptied.  Otherwise fall
        through."""
        cdef ILBuilder il = self.il
        t = self.t
        cached = ins.cached
        elsewhere = il.new_label()
        self.frame_offset(t["frame_globals"])
        il.op("ldind.i")
        il.stloc(self.v_t3)
        if ins.seen == "BUILTIN":
            self.branch_unless_keys_version(self.v_t3, cached.module_keys_version, elsewhere)
            self.frame_offset(t["frame_builtins"])
            il.op("ldind.i")
            il.stloc(self.v_t3)
            version = cached.builtin_keys_version
        else:
            version = cached.module_keys_version
        self.versioned_entry_value(self.v_t3, version, cached.index, self.v_t0, elsewhere)
        il.branch("br", have)
        il.mark(elsewhere)

    def branch_unless_keys_version(self, v_dict, version, label):
        """Go to label unless the object in v_dict is an exact dict whose
        keys (left in v_keys) have the version `version` (unique to one
        keys object in one state: an insertion or deletion changes it)."""
        cdef ILBuilder il = self.il
        t = self.t
        self.branch_unless_type(v_dict, t["dict_type"], label)
        self.load_field(v_dict, t["dict_keys"], "i")
        il.stloc(self.v_keys)
        self.load_field(self.v_keys, t["keys_version"], "u4")
        self.ldc_u4(version)
        il.branch("bne.un", label)

    def versioned_entry_value(self, v_dict, version, index, result, label):
        """result = the value (borrowed) of entry `index` of the dict in
        v_dict while its keys have the version `version` (the interpreter
        found the name there then, in a str-keyed, combined table); go to
        label if they do not, or the entry was emptied."""
        cdef ILBuilder il = self.il
        t = self.t
        self.branch_unless_keys_version(v_dict, version, label)
        self.push_keys_entries()
        il.ldc_i4(index * t["unicode_entry_size"] + t["entry_value"])
        il.op("add")
        il.op("ldind.i")
        il.stloc(result)
        il.ldloc(result)
        il.branch("brfalse", label)

    # -------------------------------------------------------- LOAD_ATTR
    def op_LOAD_ATTR(self, ins, depth):
        cache = self.site_cache[ins.index]
        if not self.inline_serves(ins):
            self.call_op("load_attr_cached", ins, depth, depth - 1, aux=cache)
            return
        cdef ILBuilder il = self.il
        miss, done = il.new_label(), il.new_label()
        self.load_stack_value(depth - 1)
        il.stloc(self.v_t0)
        if ins.seen == "MODULE":
            self.module_attribute(ins, self.v_t1, miss)
        elif ins.seen == GENERIC:
            # where the interpreter gave up: an attribute of a class (3.11
            # has no form for those), or of instances of several types (a
            # site it keeps respecialising is met in its backoff)
            found, instance = il.new_label(), il.new_label()
            self.class_attribute(ins, self.v_t1, instance, miss)
            il.branch("br", found)
            il.mark(instance)
            self.instance_attribute(ins, self.v_t1, miss)
            il.mark(found)
        else:
            self.instance_attribute(ins, self.v_t1, miss)
        self.store_new_reference(depth - 1, self.v_t1)
        self.release_stack_value(depth - 1, self.v_t0)
        il.branch("br", done)
        self.call_op_out_of_line(miss, done, "load_attr_cached", ins, depth, depth - 1, aux=cache)
        il.mark(done)

    def class_attribute(self, ins, result, not_a_class, miss):
        """result = the attribute of the class in v_t0 that a class entry of
        the site's cache holds (site_cache.c's class_attribute records it),
        while the class and the value's type keep their versions
        (borrowed); go to not_a_class if v_t0 is not exactly a type, to
        miss for any other failed guard."""
        cdef ILBuilder il = self.il
        self.branch_unless_type(self.v_t0, self.t["type_type"], not_a_class)
        self.load_field(self.v_t0, self.t["type_version"], "i4")
        il.stloc(self.v_cmp)
        self.find_way(self.site_cache[ins.index], miss, key_bias=self.t["site_class_key"])
        self.load_entry_field("site_cache_value")
        il.stloc(result)
        self.load_type_version_of_type(result)
        il.op("conv.u8")
        self.load_entry_field("site_cache_guard2")
        il.branch("bne.un", miss)

    def instance_attribute(self, ins, result, miss):
        """result = the attribute of the object in v_t0 where the site's
        cache entry for its type says it is (borrowed); else go to miss."""
        cdef ILBuilder il = self.il
        in_dict, found = il.new_label(), il.new_label()
        known = self.uses_interpreter_cache(ins)
        if known:
            # first where the interpreter found it, with its guards
            elsewhere = il.new_label()
            if ins.seen == "WITH_HINT":
                self.branch_unless_type_version(self.v_t0, ins.cached.type_version, elsewhere)
                il.ldc_i8(ins.cached.index)
                il.stloc(self.v_ia)
                self.entry_of_managed_dict(ins, result, elsewhere)
                il.branch("br", found)
            else:
                self.known_attribute_address(ins, self.v_t0, elsewhere)
                il.op("ldind.i")
                il.stloc(result)
                il.ldloc(result)
                il.branch("brtrue", found)
            il.mark(elsewhere)
        if not self.searches_site_cache(known):
            il.branch("br", miss)
            il.mark(found)
            return
        self.find_cache_entry(self.v_t0, self.site_cache[ins.index], miss)
        self.attribute_address(self.v_t0, miss, in_dict)
        il.op("ldind.i")
        il.stloc(result)
        il.ldloc(result)
        il.branch("brfalse", miss)          # attribute deleted
        il.branch("br", found)
        il.mark(in_dict)
        if self.instance_dict_possible(ins):
            self.load_from_instance_dict(ins, result, miss)
        else:
            il.branch("br", miss)
        il.mark(found)

    def module_attribute(self, ins, result, miss):
        """result = the attribute of the module in v_t0 from the entry of
        its dict that the site's first cache entry points at (borrowed);
        go to miss unless v_t0 is exactly a module and the entry holds the
        name.  ModuleType itself has nothing of the name (site_cache.c)."""
        cdef ILBuilder il = self.il
        t = self.t
        found = il.new_label()
        self.branch_unless_type(self.v_t0, t["module_type"], miss)
        known = self.uses_interpreter_cache(ins)
        if known:
            # first the entry the interpreter's cache names (a ModuleCache)
            elsewhere = il.new_label()
            self.load_field(self.v_t0, t["module_dict"], "i")
            il.stloc(self.v_t3)
            il.ldloc(self.v_t3)
            il.branch("brfalse", miss)
            self.versioned_entry_value(self.v_t3, ins.cached.keys_version, ins.cached.index,
                                       result, elsewhere)
            il.branch("br", found)
            il.mark(elsewhere)
        if not self.searches_site_cache(known):
            il.branch("br", miss)
            il.mark(found)
            return
        il.ldc_ptr(self.site_cache[ins.index] + t["site_cache_guard2"])
        il.op("ldind.i8")
        il.stloc(self.v_ia)
        il.ldloc(self.v_ia)
        il.ldc_i8(t["site_module_flag"])
        il.op("and")
        il.branch("brfalse", miss)
        il.ldloc(self.v_ia)
        il.ldc_i8(t["site_module_flag"] - 1)
        il.op("and")
        il.stloc(self.v_ia)
        self.load_field(self.v_t0, t["module_dict"], "i")
        il.stloc(self.v_t3)
        il.ldloc(self.v_t3)
        il.branch("brfalse", miss)
        self.branch_unless_type(self.v_t3, t["dict_type"], miss)
        self.dict_entry_value(self.v_t3, self.v_ia, id(self.code.co_names[ins.oparg]), result, miss)
        il.mark(found)

    def load_from_instance_dict(self, ins, result, miss):
        """result = the attribute from the entry at the recorded index of
        the owner's (v_t0) own __dict__, as LOAD_ATTR_WITH_HINT, when its
        type keeps that dict before the object; else go to miss."""
        cdef ILBuilder il = self.il
        t = self.t
        il.ldloc(self.v_ia)
        il.ldc_i8(t["site_managed_flag"])
        il.op("and")
        il.branch("brfalse", miss)
        il.ldloc(self.v_ia)
        il.ldc_i8(t["site_managed_flag"] - 1)
        il.op("and")
        il.stloc(self.v_ia)
        self.entry_of_managed_dict(ins, result, miss)

    def entry_of_managed_dict(self, ins, result, miss):
        """result = the attribute from the entry at index v_ia of the
        __dict__ that the owner's (v_t0) type keeps before the object, if
        there is one and that entry holds the name; else go to miss."""
        cdef ILBuilder il = self.il
        self.load_field(self.v_t0, self.t["managed_dict_from_object"], "i")
        il.stloc(self.v_t3)
        il.ldloc(self.v_t3)
        il.branch("brfalse", miss)
        self.branch_unless_type(self.v_t3, self.t["dict_type"], miss)
        self.dict_entry_value(self.v_t3, self.v_ia, id(self.code.co_names[ins.oparg]),
                              result, miss)

    # ------------------------------------------------------- STORE_ATTR
    def op_STORE_ATTR(self, ins, depth):
        """[value, owner]: store into a __slots__ member or an inline value
        (a new inline value also joins the values' insertion order, as
        STORE_ATTR_INSTANCE_VALUE does); stores into a __dict__ are the
        helper's, which gives the dict a new version."""
        if not self.inline_serves(ins):
            self.call_op("store_attr_cached", ins, depth, depth - 2, aux=self.site_cache[ins.index])
            return
        cdef ILBuilder il = self.il
        new_value, stored, have_address = il.new_label(), il.new_label(), il.new_label()
        cache, miss, done = self.begin_type_keyed_site(ins, depth)
        known = self.uses_interpreter_cache(ins)
        if known:
            # first where the interpreter stored it, with its guards
            elsewhere = il.new_label()
            self.known_attribute_address(ins, self.v_t0, elsewhere, describe=True)
            il.branch("br", have_address)
            il.mark(elsewhere)
        if self.searches_site_cache(known):
            self.find_cache_entry(self.v_t0, cache, miss)
            self.attribute_address(self.v_t0, miss)
        else:
            il.branch("br", miss)
        il.mark(have_address)
        il.stloc(self.v_address)
        note = self.store_at_address(self.v_address, depth - 2, self.v_t1, stored)
        il.ldloc(self.v_t1)
        il.branch("brfalse", new_value)
        self.decref_value(self.v_t1)
        il.branch("br", stored)
        il.mark(new_value)
        il.ldloc(self.v_ia)
        il.ldc_i8(self.t["site_slot_flag"])
        il.op("and")
        il.branch("brtrue", stored)
        self.add_to_insertion_order(self.v_t3, self.v_ia)
        il.mark(stored)
        self.release_stack_value(depth - 1, self.v_t0)
        il.branch("br", done)
        if note is not None:
            self.deferred[depth - 2] = note         # the helper's path boxes it
        self.call_op_out_of_line(miss, done, "store_attr_cached", ins, depth, depth - 2, aux=cache)
        il.mark(done)

    def add_to_insertion_order(self, v_values, v_index):
        """_PyDictValues_AddToInsertionOrder: the bytes before inline values
        hold their count (at -2) and, below it, the indices in insertion
        order."""
        cdef ILBuilder il = self.il
        il.ldloc(v_values)
        il.ldc_i4(-2)
        il.op("add")
        il.op("ldind.u1")
        il.op("ldc.i4.1")
        il.op("add")
        il.stloc(self.v_cmp)
        il.ldloc(v_values)
        il.ldc_i4(-2)
        il.op("add")
        il.ldloc(self.v_cmp)
        il.op("sub")
        il.ldloc(v_index)
        il.op("conv.u1")
        il.op("stind.i1")
        il.ldloc(v_values)
        il.ldc_i4(-2)
        il.op("add")
        il.ldloc(self.v_cmp)
        il.op("stind.i1")

    # ------------------------------------------------------ LOAD_METHOD
    def op_LOAD_METHOD(self, ins, depth):
        """[obj] -> [method, obj] from the cache, when the type is unchanged
        and the instance has no attribute of that name (site_cache.c)."""
        if not self.inline_serves(ins):
            self.call_op("load_method_cached", ins, depth, depth - 1, aux=self.site_cache[ins.index])
            return
        if ins.seen == "MODULE":
            return self.module_function(ins, depth)
        cdef ILBuilder il = self.il
        have_method = il.new_label()
        cache, miss, done = self.begin_type_keyed_site(ins, depth)
        known = self.uses_interpreter_cache(ins)
        if known:
            self.known_method(ins, have_method)
        if self.searches_site_cache(known):
            self.method_from_site_cache(ins, cache, miss)
        else:
            il.branch("br", miss)
        il.mark(have_method)
        self.store_new_reference(depth - 1, self.v_t1)
        self.slot_addr(depth)               # the owner moves up
        il.ldloc(self.v_t0)
        il.op("stind.i")
        if self.is_deferred(depth - 1):
            self.incref_local(self.v_t0)
        il.branch("br", done)
        self.call_op_out_of_line(miss, done, "load_method_cached", ins, depth, depth - 1, aux=cache)
        il.mark(done)

    def method_from_site_cache(self, ins, cache, miss):
        """v_t1 = the method the site's cache entry for the type of the
        object in v_t0 holds, while the instance cannot shadow it (see
        op_LOAD_METHOD); else go to miss."""
        cdef ILBuilder il = self.il
        found, with_dict = il.new_label(), il.new_label()
        self.find_cache_entry(self.v_t0, cache, miss)
        self.load_entry_field("site_cache_guard2")
        il.stloc(self.v_ia)
        il.ldloc(self.v_ia)
        il.branch("brfalse", found)         # instances have no attributes
        il.ldloc(self.v_ia)
        il.ldc_i8(self.t["site_dict_flag"] | self.t["site_managed_flag"])
        il.branch("beq", with_dict if self.instance_dict_possible(ins) else miss)
        il.ldloc(self.v_ia)
        il.ldc_i8(self.t["site_dict_flag"])
        il.branch("beq", miss)              # a __dict__ elsewhere: the helper
        self.load_field(self.v_t0, self.t["managed_dict_from_object"], "i")
        il.branch("brtrue", miss)
        self.load_field(self.v_t0, self.t["values_from_object"], "i")
        il.branch("brfalse", miss)
        self.load_field(self.v_t0, self.t["ob_type"], "i")
        il.ldc_i4(self.t["type_cached_keys"])
        il.op("add")
        il.op("ldind.i")
        il.ldc_i4(self.t["keys_nentries"])
        il.op("add")
        il.op("ldind.i8")
        il.op("ldc.i4.1")
        il.op("conv.i8")
        il.op("add")
        il.ldloc(self.v_ia)
        il.branch("bne.un", miss)           # a key was added: maybe this name
        if self.instance_dict_possible(ins):
            il.branch("br", found)
            il.mark(with_dict)
            self.load_field(self.v_t0, self.t["managed_dict_from_object"], "i")
            il.stloc(self.v_t3)
            il.ldloc(self.v_t3)
            il.branch("brfalse", miss)
            self.branch_unless_type(self.v_t3, self.t["dict_type"], miss)
            self.branch_unless_absent(self.v_t3, self.code.co_names[ins.oparg], miss)
        il.mark(found)
        self.load_entry_field("site_cache_value")
        il.stloc(self.v_t1)

    def known_method(self, ins, have_method):
        """v_t1 = the method the interpreter's cache for ins holds (a
        MethodCache) and go to have_method, when its guards hold for the
        object in v_t0: the type's version and, for instances with inline
        values (WITH_VALUES), no __dict__ made and the shared keys at the
        version the interpreter found without the name.  Otherwise fall
        through."""
        cdef ILBuilder il = self.il
        t = self.t
        cached = ins.cached
        elsewhere = il.new_label()
        self.branch_unless_type_version(self.v_t0, cached.type_version, elsewhere)
        if ins.seen == "WITH_VALUES":
            self.load_field(self.v_t0, t["managed_dict_from_object"], "i")
            il.branch("brtrue", elsewhere)
            self.load_field(self.v_t0, t["ob_type"], "i")
            il.stloc(self.v_t3)
            self.load_field(self.v_t3, t["type_cached_keys"], "i")
            il.stloc(self.v_keys)
            self.load_field(self.v_keys, t["keys_version"], "u4")
            self.ldc_u4(cached.keys_version)
            il.branch("bne.un", elsewhere)
        il.ldc_ptr(cached.descr)
        il.stloc(self.v_t1)
        il.branch("br", have_method)
        il.mark(elsewhere)

    def module_function(self, ins, depth):
        """[module] -> [NULL, attribute], as LOAD_METHOD_MODULE."""
        cdef ILBuilder il = self.il
        miss, done = il.new_label(), il.new_label()
        self.load_stack_value(depth - 1)
        il.stloc(self.v_t0)
        self.module_attribute(ins, self.v_t1, miss)
        self.store_new_reference(depth, self.v_t1)
        self.slot_addr(depth - 1)
        il.ldc_ptr(0)
        il.op("stind.i")
        self.release_stack_value(depth - 1, self.v_t0)
        il.branch("br", done)
        self.call_op_out_of_line(miss, done, "load_method_cached", ins, depth, depth - 1,
                                 aux=self.site_cache[ins.index])
        il.mark(done)

    # ------------------------------------------------------------- CALL
    def precall_of(self, ins):
        """The PRECALL right before the CALL ins, or None."""
        precall = self.previous_of.get(ins.index)
        return precall if precall is not None and precall.name == "PRECALL" else None

    def precall_seen(self, ins):
        """What the interpreter specialised the PRECALL before this CALL
        for (feedback), or None; a guess from the callable's name where the
        code ran too little for feedback (guessed_call)."""
        precall = self.precall_of(ins)
        if precall is None:
            return None
        if precall.seen is None and not self.compact:
            return self.guessed_call(precall)
        return precall.seen

    def guessed_call(self, precall):
        """The specialisation the interpreter would likely have chosen for a
        call of a builtin function or a method named as one of a builtin
        type (code with a loop is compiled at its first call, before any
        feedback).  Every fast path checks the object actually called, so
        a wrong guess only costs the check."""
        callee = self.a.callees.get(precall.index)
        if callee is None or callee in _GUESSED_BY_NAME:
            return _GUESSED_BY_NAME.get(callee)
        loaded_by, name = callee
        if loaded_by == "global" and name in self.t["vectorcall_classes"]:
            form = ("class", None)
        elif loaded_by == "global":
            form = ("builtin", self.t["builtin_function_flags"].get(name))
        elif loaded_by == "method":
            form = ("descriptor", self.t["method_descriptor_flags"].get(name))
        else:
            return None             # a module's attribute: no guess
        return _SEEN_FOR_C_CALL.get(form)

    def c_call_conventions(self, seen):
        """(kind, METH_* conventions) to try a direct call of a C function
        by at a CALL without keywords (c_function_call), or None: what the
        interpreter specialised the site for (or guessed_call's guess);
        where neither says, in a loop of code compiled before it ran warm
        (at its first call, for that loop), whichever C function turns out
        to be called.  (Not in compact code, nor outside loops, where the
        call runs once per call of the code, nor where the interpreter ran
        the code warm but not this site: a cold one.)"""
        if seen in C_CALLS:
            kind, flags = C_CALLS[seen]
            if kind == "class" and not self.runs_often():
                return None
            return kind, (flags,)
        if self.unseen_call_in_cold_loop(seen):
            return "builtin", UNSEEN_BUILTIN_CONVENTIONS
        return None

    def runs_often(self):
        """Is the CALL being translated one the interpreter ran warm (it
        has feedback) or in a loop?  Elsewhere, in code compiled at its
        first call, it runs once per call of the code: a direct path there
        (an unmanaged call that RyuJIT expands inline in the body) is code
        for no time saved -- list(range(n)) before fannkuch's loop."""
        precall = self.precall_of(self.current_ins)
        return (precall is not None and precall.seen is not None) or self.current_index in self.a.in_loops

    def unseen_call_in_cold_loop(self, seen):
        """Is the CALL being translated one the interpreter has no feedback
        for, in a loop of code compiled before it ran warm (at its first
        call), so that whatever it calls is only known at run time?"""
        return (seen is None and not self.compact and not self.a.warmed
                and self.current_index in self.a.in_loops)

    def positional_callee(self, ins):
        """(kind, name) of what a CALL of positional arguments only seems
        to call (bytecode.callee_names), else (None, None).  A guess: the
        fast paths that go by it check the object called."""
        precall = self.precall_of(ins)
        if precall is None:
            return None, None
        before = self.previous_of.get(precall.index)
        if before is not None and before.name == "KW_NAMES":
            return None, None
        return self.a.callees.get(precall.index, (None, None))

    def replaced_call(self, ins):
        """The fast path that makes a CALL's result without the call, by
        what the CALL seems to call: (the callee's name, an emitter (ins,
        depth, generic) that goes to generic where its guards fail), or
        None."""
        name = self.math_function_called(ins)
        if name is not None:
            return name, lambda ins, depth, generic: self.math_function_call(ins, depth, name, generic)
        made = self.iterator_made(ins)
        if made is not None:
            return made, lambda ins, depth, generic: self.iterator_call(ins, depth, generic, made)
        return None

    def math_function_called(self, ins):
        """The name of the math function (MATH_DOMAINS) a CALL of one
        positional argument seems to call -- a global (`from math import
        sqrt`) or a module's attribute (`math.sqrt`, math a global or a
        local) -- or None."""
        if ins.oparg != 1 or self.compact >= 2:
            return None
        name = self.positional_callee(ins)[1]
        return name if name in MATH_DOMAINS and name in self.t["math_functions"] else None

    def iterator_made(self, ins):
        """The builtin class (ITERATOR_MAKERS) a CALL seems to call for the
        GET_ITER after it (a for loop's, or a comprehension's), or None."""
        following = self.next_instr(ins)
        if not self.t["inline_iterators"] or following is None or following.name != "GET_ITER":
            return None
        loaded_by, name = self.positional_callee(ins)
        if loaded_by != "global" or name not in ITERATOR_MAKERS:
            return None
        return name if ins.oparg in ITERATOR_MAKERS[name][2] else None

    def iterator_call(self, ins, depth, generic, name):
        """[NULL, range or reversed, args...] before a GET_ITER: the range
        iterator the call and the GET_ITER would make, made at once by a
        helper (ops.c: exact ints, no range object, no call), in the call's
        place, where the GET_ITER finds an iterator.  chaos's
        Spline.__call__ runs two such loops a call, hexiom's solver one
        for each cell a pass, nqueens' permutations a reversed one for each
        permutation.  Anything else goes to generic."""
        cdef ILBuilder il = self.il
        class_key, helper, _ = ITERATOR_MAKERS[name]
        base = depth - ins.oparg - 2
        self.spill(base, depth)
        self.branch_unless_called(base, self.t[class_key], generic)
        self.slot_addr(base + 1)
        il.ldc_i4(ins.oparg)
        self.call_native(self.helpers[helper], SIG_ITERATOR_MAKER, observes_frame=False)
        il.stloc(self.v_t2)
        il.ldloc(self.v_t2)
        il.branch("brfalse", generic)
        self.slot_addr(base)
        il.ldloc(self.v_t2)
        il.op("stind.i")

    def math_function_call(self, ins, depth, name, generic):
        """[NULL, math.<name>, x] for x a float or a one-digit int (unboxed
        or not) in the function's domain (MATH_DOMAINS): the C library
        function math calls, called here on x as a double, its result left
        unboxed for the reader that takes it so (else a new float) in the
        call's place.  Anything else goes to generic."""
        cdef ILBuilder il = self.il
        function, c_function = self.t["math_functions"][name]
        self.load_operands(depth)           # v_t0 the callable, v_t1 x
        self.load_stack_value(depth - 3)
        il.branch("brtrue", generic)
        il.ldloc(self.v_t0)
        il.ldc_ptr(function)
        il.branch("bne.un", generic)
        have = il.new_label()
        labels = {kind: il.new_label() for kind in ("F", "I")}
        self.branch_in_turn(self.v_t1, [(self.branch_unless_float, labels["F"]),
                                        (self.branch_unless_one_digit_int, labels["I"])],
                            generic, False, None)
        for kind, label in labels.items():
            il.mark(label)
            self.load_as_double(self.v_t1, kind)
            il.stloc(self.v_fa)
            il.branch("br", have)
        il.mark(have)
        low, high = MATH_DOMAINS[name]
        for bound, outside in ((low, "blt.un"), (high, "bgt.un")):    # (NaN: outside)
            if not math.isinf(bound):
                il.ldloc(self.v_fa)
                il.ldc_r8(bound)
                il.branch(outside, generic)
        il.ldloc(self.v_fa)
        il.ldc_ptr(c_function)
        il.calli(SIG_MATH_FUNCTION)         # runs no code: no GC transition
        il.stloc(self.v_fa)
        if self.read_unboxed_next(ins, depth - 3, "float"):
            il.ldloc(self.v_fa)
            self.leave_unboxed(depth - 3, "float", "N", "N", "float")
            return
        self.box_float(ins, depth)
        self.release_operand(self.v_t0, "N")
        self.release_operand(self.v_t1, "N")
        self.slot_addr(depth - 3)
        il.ldloc(self.v_t2)
        il.op("stind.i")

    def builtin_call_operand(self, depth, builtin, call, nargs=1):
        """For [NULL, builtin, x] (or [NULL, builtin, x, y]): x into v_t0
        (and y into v_t1), unless the callable is not the builtin object at
        address `builtin` (go to call)."""
        cdef ILBuilder il = self.il
        base = depth - nargs - 2
        self.branch_unless_called(base, builtin, call)
        for i, v in enumerate((self.v_t0, self.v_t1)[:nargs]):
            self.load_slot(base + 2 + i)
            il.stloc(v)

    def branch_unless_called(self, base, address, label):
        """Go to label unless the call whose values start at slot base is
        [NULL, the object at `address`, ...]."""
        cdef ILBuilder il = self.il
        self.load_slot(base)
        il.branch("brtrue", label)
        self.load_slot(base + 1)
        il.ldc_ptr(address)
        il.branch("bne.un", label)

    def replace_builtin_call(self, depth, v_result, nargs=1):
        """The new reference in v_result replaces [NULL, builtin, x] (or
        [NULL, builtin, x, y]; the arguments where builtin_call_operand left
        them), which are released in order, as the interpreter does."""
        cdef ILBuilder il = self.il
        base = depth - nargs - 2
        for v in (self.v_t0, self.v_t1)[:nargs]:
            self.decref_local(v)
        self.load_slot(base + 1)
        il.stloc(self.v_t1)
        self.decref_immortal_local(self.v_t1)   # the builtin itself
        self.slot_addr(base)
        il.ldloc(v_result)
        il.op("stind.i")

    def type_of(self, ins, depth, done):
        """[NULL, type, x] -> type(x) without a call, as
        PRECALL_NO_KW_TYPE_1; going to done.  Anything else falls through
        to the call."""
        cdef ILBuilder il = self.il
        call = il.new_label()
        self.builtin_call_operand(depth, self.t["type_type"], call)
        self.load_field(self.v_t0, self.t["ob_type"], "i")
        il.stloc(self.v_t2)
        self.incref_local(self.v_t2)
        self.replace_builtin_call(depth, self.v_t2)
        il.branch("br", done)
        il.mark(call)

    def instance_of(self, ins, depth, done):
        """[NULL, isinstance, x, cls] -> True without a call when x's type
        is cls or, cls being a class of metaclass type (no
        __instancecheck__ of its own), a subclass of it: what isinstance
        answers first.  Anything else (False included: x.__class__ may
        say otherwise) falls through to the call."""
        cdef ILBuilder il = self.il
        call, true = il.new_label(), il.new_label()
        self.builtin_call_operand(depth, self.t["builtin_isinstance"], call, nargs=2)
        self.load_field(self.v_t0, self.t["ob_type"], "i")
        il.stloc(self.v_t2)
        il.ldloc(self.v_t2)
        il.ldloc(self.v_t1)
        il.branch("beq", true)
        self.load_field(self.v_t1, self.t["ob_type"], "i")
        il.ldc_ptr(self.t["type_type"])
        il.branch("bne.un", call)
        il.ldloc(self.v_t2)
        il.ldloc(self.v_t1)
        self.call_native(self.helpers["PyType_IsSubtype"], SIG_IS_SUBTYPE, observes_frame=False)
        il.branch("brfalse", call)
        il.mark(true)
        il.ldc_ptr(self.t["py_true"])
        il.stloc(self.v_t2)
        self.incref_local(self.v_t2)
        self.replace_builtin_call(depth, self.v_t2, nargs=2)
        il.branch("br", done)
        il.mark(call)

    def length_of(self, ins, depth, done):
        """[NULL, len, x] -> len(x) of an exact list, tuple or dict without
        a call, as PRECALL_NO_KW_LEN; going to done.  Anything else falls
        through to the call."""
        cdef ILBuilder il = self.il
        call, have = il.new_label(), il.new_label()
        self.builtin_call_operand(depth, self.t["builtin_len"], call)
        self.load_field(self.v_t0, self.t["ob_type"], "i")
        il.stloc(self.v_t1)
        for sized, field in (("list_type", "var_size"), ("tuple_type", "var_size"),
                             ("dict_type", "dict_used")):
            next_type = il.new_label()
            il.ldloc(self.v_t1)
            il.ldc_ptr(self.t[sized])
            il.branch("bne.un", next_type)
            self.load_field(self.v_t0, self.t[field], "i8")
            il.stloc(self.v_ia)
            il.branch("br", have)
            il.mark(next_type)
        il.branch("br", call)
        il.mark(have)
        il.ldloc(self.v_ia)
        self.box_int(ins, depth)
        self.replace_builtin_call(depth, self.v_t2)
        il.branch("br", done)
        il.mark(call)

    def generator_consumer(self, ins):
        """The builtin a CALL of one argument names that consume_generator
        may serve (set, tuple, any, all, as a global), or None."""
        precall = self.precall_of(ins)
        if ins.oparg != 1 or self.compact or precall is None:
            return None
        loaded_by, name = self.a.callees.get(precall.index, (None, None))
        return name if loaded_by == "global" and name in GENERATOR_CONSUMERS else None

    def consume_generator(self, ins, depth, done, builtin):
        """[NULL, builtin, g] for set, tuple, any or all of a generator g:
        this code takes g's items itself, by FOR_ITER's helpers, so that a
        compiled g is resumed as compiled code calls compiled code, not by
        the builtin's C loop through the frame hook at every item; each
        item is collected or tested as the builtin does (ops.c's
        consume_*); going to done.  Anything else falls through to the
        call."""
        cdef ILBuilder il = self.il
        call, loop, finished = il.new_label(), il.new_label(), il.new_label()
        kind = GENERATOR_CONSUMERS.index(builtin)
        self.builtin_call_operand(depth, self.t["generator_consumers"][builtin], call)
        self.branch_unless_type(self.v_t0, self.t["generator_type"], call)
        # [accumulator (a set, a list for the tuple; any, all: NULL), g, item]
        self.call_op("consume_begin", ins, depth, depth, oparg=kind)
        il.mark(loop)
        self.direct_capable_op("for_iter", ins, depth - 1, depth - 1)
        il.ldloc(self.v_status)
        il.branch("brtrue", finished)       # exhausted: g released
        self.call_op("consume_item", ins, depth, depth - 1, oparg=kind, fails_below_zero=True)
        il.ldloc(self.v_status)
        il.branch("brfalse", loop)
        il.mark(finished)                   # or any, all decided: g still there
        self.call_op("consume_end", ins, depth, depth - 1, oparg=kind)
        il.branch("br", done)
        il.mark(call)

    def list_append(self, ins, depth, done):
        """[list.append, lst, x]: x appended in place when lst is an exact
        list with room to spare, then None (as PRECALL_NO_KW_LIST_APPEND);
        going to done.  Anything else falls through to the call."""
        cdef ILBuilder il = self.il
        call = il.new_label()
        self.load_slot(depth - 3)
        il.stloc(self.v_t0)
        il.ldloc(self.v_t0)
        il.ldc_ptr(self.t["list_append"])
        il.branch("bne.un", call)
        self.load_slot(depth - 2)
        il.stloc(self.v_t1)
        self.append_in_place(self.v_t1, depth - 1, call)
        self.decref_local(self.v_t1)
        self.decref_local(self.v_t0)
        il.ldc_ptr(self.t["py_none"])
        il.stloc(self.v_t2)
        self.store_new_reference(depth - 3, self.v_t2)
        il.branch("br", done)
        il.mark(call)

    def c_function_call(self, ins, depth, kind, conventions, called):
        """CALL of a C function without keywords, made here as the
        interpreter's specialised PRECALL does.  `kind`: a builtin is
        [NULL, builtin, args], a method descriptor [descriptor, self,
        args] with self of the type that defines it, a class [NULL, class,
        args], of metaclass type, with a vectorcall of its own (range,
        list, reversed: PRECALL_BUILTIN_CLASS; the helper's path records
        classes, looking for an __init__ to call).  `conventions`: the
        METH_* flags to call a function by, one (C_CALLS, from feedback or
        a guess) or several (UNSEEN_BUILTIN_CONVENTIONS, the callable
        unknown), the function's flags being exactly one of them.  The
        result replaces the call's values, going to `called`; a failed
        guard falls through to the generic call."""
        cdef ILBuilder il = self.il
        nargs = ins.oparg
        conventions = [flags for flags in conventions
                       if not (flags == METH_O and nargs != 1) and not (flags == METH_NOARGS and nargs != 0)]
        if not conventions:
            return
        self.direct_c_calls.append((ins.index, tuple(conventions)))
        base = depth - nargs - 2
        call = il.new_label()
        self.load_slot(base)
        il.branch("brfalse" if kind == "descriptor" else "brtrue", call)
        callable_slot = base if kind == "descriptor" else base + 1
        self.load_slot(callable_slot)
        il.stloc(self.v_t0)
        if kind == "class":
            self.class_vectorcall(base, nargs, call)
        else:
            self.method_def_call(ins, depth, kind, conventions, base, call)
        for d in range(callable_slot + 1, depth):
            self.load_slot(d)
            il.stloc(self.v_t1)
            self.decref_local(self.v_t1)
        self.decref_local(self.v_t0)
        self.slot_addr(base)
        il.ldloc(self.v_t2)
        il.op("stind.i")
        self.slot_addr(base + 1)
        il.ldc_ptr(0)
        il.op("stind.i")
        il.ldloc(self.v_t2)
        il.branch("brfalse", self.error_stub(ins, base))
        il.branch("br", called)
        il.mark(call)

    def class_vectorcall(self, base, nargs, call):
        """v_t2 = the class in v_t0 called on its arguments through its
        own vectorcall, if it is of metaclass type and has one; else go to
        call."""
        cdef ILBuilder il = self.il
        self.branch_unless_type(self.v_t0, self.t["type_type"], call)
        self.load_field(self.v_t0, self.t["type_vectorcall"], "i")
        il.stloc(self.v_t3)
        il.ldloc(self.v_t3)
        il.branch("brfalse", call)
        self.set_prev_instr(self.current_index)
        il.ldloc(self.v_t0)
        self.slot_addr(base + 2)
        il.ldc_ptr(nargs)
        il.ldc_ptr(0)                       # no keywords
        il.ldloc(self.v_t3)
        self.calli_native(_C_FUNCTION_SIGNATURES[METH_FASTCALL | METH_KEYWORDS])
        il.stloc(self.v_t2)

    def method_def_call(self, ins, depth, kind, conventions, base, call):
        """v_t2 = the result of calling the builtin or method descriptor in
        v_t0 by the one of `conventions` its PyMethodDef has; else (another
        type, another convention) go to call."""
        cdef ILBuilder il = self.il
        result = il.new_label()
        if kind == "builtin":
            self.branch_unless_type(self.v_t0, self.t["cfunction_type"], call)
            self.load_field(self.v_t0, self.t["cfunction_def"], "i")
        else:
            self.branch_unless_type(self.v_t0, self.t["method_descr_type"], call)
            self.load_slot(base + 1)
            il.stloc(self.v_t1)
            self.load_field(self.v_t1, self.t["ob_type"], "i")
            self.load_field(self.v_t0, self.t["descr_type"], "i")
            il.branch("bne.un", call)
            self.load_field(self.v_t0, self.t["descr_def"], "i")
        il.stloc(self.v_t3)                 # the PyMethodDef
        # what the function raises points at this call (line and columns)
        self.set_prev_instr(self.current_index)
        for k, flags in enumerate(conventions):
            last = k == len(conventions) - 1
            other = call if last else il.new_label()
            self.load_field(self.v_t3, self.t["methoddef_flags"], "i4")
            il.ldc_i4(flags)
            il.branch("bne.un", other)
            self.c_function_calli(ins, depth, kind, flags, base)
            if not last:
                il.branch("br", result)
                il.mark(other)
        il.mark(result)

    def c_function_calli(self, ins, depth, kind, flags, base):
        """v_t2 = the result of calling the ml_meth of the PyMethodDef in
        v_t3 by convention `flags` (c_function_call's guards passed: v_t0
        the builtin or descriptor, v_t1 a descriptor's self); O and NOARGS
        count against the recursion budget, as their specialised PRECALLs
        do."""
        cdef ILBuilder il = self.il
        counted = flags in (METH_O, METH_NOARGS)
        if counted:
            self.enter_recursive_call(ins, depth)
        # the function's self, then its arguments (above the builtin, or
        # above the descriptor's self)
        if kind == "builtin":
            self.load_field(self.v_t0, self.t["cfunction_self"], "i")
        else:
            il.ldloc(self.v_t1)
        first_arg = base + 2
        if flags == METH_O:
            self.load_slot(first_arg)
        elif flags == METH_NOARGS:
            il.ldc_ptr(0)
        else:
            self.slot_addr(first_arg)
            il.ldc_ptr(depth - first_arg)
            if flags & METH_KEYWORDS:
                il.ldc_ptr(0)
        self.load_field(self.v_t3, self.t["methoddef_function"], "i")
        self.calli_native(_C_FUNCTION_SIGNATURES[flags])
        il.stloc(self.v_t2)
        if counted:
            self.add_to_tstate_recursion(1)

    def enter_recursive_call(self, ins, depth):
        """_Py_EnterRecursiveCallTstate: spend one of the thread's recursion
        budget; when none was left, the helper raises RecursionError (the
        call's values still on the stack) or renews the budget."""
        cdef ILBuilder il = self.il
        self.add_to_tstate_recursion(-1)
        self.tstate_recursion_address()
        il.op("ldind.i4")
        il.op("ldc.i4.0")
        go_on = il.new_label()
        il.branch("bge", go_on)

        def exhausted():
            il.op("ldarg.0")
            self.call_native(self.helpers["recursion_exhausted"], SIG_RECURSION_EXHAUSTED)
            il.branch("brtrue", self.error_stub(ins, depth))
        self.cold(exhausted, go_on, label=il.new_label())
        il.mark(go_on)

    def tstate_recursion_address(self):
        """Push &tstate->recursion_remaining (tstate: argument 0)."""
        cdef ILBuilder il = self.il
        il.op("ldarg.0")
        il.ldc_i4(self.t["tstate_recursion_remaining"])
        il.op("add")

    def add_to_tstate_recursion(self, delta):
        cdef ILBuilder il = self.il
        self.tstate_recursion_address()
        il.op("dup")
        il.op("ldind.i4")
        il.ldc_i4(delta)
        il.op("add")
        il.op("stind.i4")

    def op_LIST_APPEND(self, ins, depth):
        """[list, ..., x] (oparg items above the list after x is popped): a
        comprehension's append, in place while the list has room."""
        cdef ILBuilder il = self.il
        call, done = il.new_label(), il.new_label()
        self.load_slot(depth - 1 - ins.oparg)
        il.stloc(self.v_t1)
        self.append_in_place(self.v_t1, depth - 1, call)
        il.branch("br", done)
        il.mark(call)
        self.call_op("list_append", ins, depth, depth - 1)
        il.mark(done)

    def append_in_place(self, v_list, value_slot, label):
        """The value in stack slot value_slot appended to the exact list in
        v_list, its reference moving in, if the list has room to spare
        (no reallocation); else go to label."""
        cdef ILBuilder il = self.il
        t = self.t
        self.branch_unless_type(v_list, t["list_type"], label)
        self.load_field(v_list, t["var_size"], "i8")
        il.stloc(self.v_ia)
        il.ldloc(self.v_ia)
        self.load_field(v_list, t["list_allocated"], "i8")
        il.branch("bge", label)
        self.load_field(v_list, t["list_items"], "i")
        il.ldloc(self.v_ia)
        il.ldc_i8(self.ptr)
        il.op("mul")
        il.op("conv.i")
        il.op("add")
        self.load_slot(value_slot)
        il.op("stind.i")
        il.ldloc(v_list)
        il.ldc_i4(t["var_size"])
        il.op("add")
        il.ldloc(self.v_ia)
        il.ldc_i8(1)
        il.op("add")
        il.op("stind.i8")

    # --------------------------------------------------- GET_ITER, FOR_ITER
    def op_GET_ITER(self, ins, depth):
        """Nothing to do for an object of a type whose objects are their
        own iterators (tp_iter PyObject_SelfIter, and a tp_iternext:
        PyObject_GetIter then returns the object) -- the range iterator
        iterator_call makes, a generator, zip, map, enumerate.  Anything
        else takes the helper."""
        cdef ILBuilder il = self.il
        t = self.t
        helper, done = il.new_label(), il.new_label()
        self.spill(depth - 1, depth)
        self.load_slot(depth - 1)
        il.stloc(self.v_t2)
        self.load_field(self.v_t2, t["ob_type"], "i")
        il.stloc(self.v_t2)
        self.load_field(self.v_t2, t["type_iter"], "i")
        il.ldc_ptr(t["self_iter"])
        il.branch("bne.un", helper)
        self.load_field(self.v_t2, t["type_iternext"], "i")
        il.stloc(self.v_t3)
        il.ldloc(self.v_t3)
        il.branch("brfalse", helper)
        il.ldloc(self.v_t3)
        il.ldc_ptr(t["next_not_implemented"])
        il.branch("bne.un", done)
        # (not a cold path: lists and tuples come here, at every loop's start)
        il.mark(helper)
        self.call_op("get_iter", ins, depth, depth - 1)
        il.mark(done)

    def op_FOR_ITER(self, ins, depth):
        """The next item of a list, tuple or range iterator inline.  Followed
        by UNPACK_SEQUENCE 2, the two are emitted together, and the pair of
        an enumerate over a list or tuple is pushed with no tuple made
        (except in compact code: its ten-odd blocks took 17 functions of
        the conformance run past RyuJIT's limit of 2,000)."""
        cdef ILBuilder il = self.il
        generic = il.new_label()
        done = il.new_label()
        nxt = self.next_instr(ins)
        pair = (self.t["inline_iterators"] and nxt is not None
                and nxt.name == "UNPACK_SEQUENCE" and nxt.oparg == 2
                and nxt.index not in self.a.block_starts)
        after_item = il.new_label() if pair else done
        if self.t["inline_iterators"]:
            sequence_path = il.new_label()
            range_path = il.new_label()
            with_enumerate = pair and not self.compact    # see unspecialised_kinds
            enumerate_path = il.new_label() if with_enumerate else None
            self.load_slot(depth - 1)
            il.stloc(self.v_t0)
            paths = [("list_iter_type", sequence_path), ("tuple_iter_type", sequence_path),
                     ("range_iter_type", range_path)]
            if with_enumerate:
                paths.append(("enumerate_type", enumerate_path))
            self.dispatch_on_iterator_type(paths, generic)
            il.mark(sequence_path)
            self.next_from_sequence_iterator(depth, generic)
            il.branch("br", after_item)
            il.mark(range_path)
            # the int stays unboxed for a STORE_FAST right after (`for i in
            # range(n)`), which may write it into the previous one in place
            unboxed = not pair and self.read_unboxed_next(ins, depth, "int")
            self.next_from_range_iterator(ins, depth, generic, unboxed)
            if unboxed:
                self.unboxed_result = (depth, "int")
            il.branch("br", after_item)
            if with_enumerate:
                il.mark(enumerate_path)
                self.next_pair_from_enumerate(ins, depth, generic)
                il.branch("br", done)
        self.cold(lambda: self.generic_for_iter(ins, depth), after_item, label=generic)
        if pair:
            il.mark(after_item)
            self.fused_through = nxt.index
            self.current_index, self.current_ins, self.current_depth = nxt.index, nxt, depth + 1
            self.forget_operands()
            self.op_UNPACK_SEQUENCE(nxt, depth + 1, into_locals=False)
        il.mark(done)

    def next_pair_from_enumerate(self, ins, depth, generic):
        """enumerate object in v_t0, its (index, item) unpacked right after:
        over a list or tuple iterator, push the next item and then its index
        (UNPACK_SEQUENCE's order) without the tuple; else, and at the end,
        go to generic.  As enum_next does, the index is boxed after the item
        is taken (failing, the item is released) and then advanced."""
        cdef ILBuilder il = self.il
        sequence = il.new_label()
        il.ldloc(self.v_t0)
        il.stloc(self.v_t3)
        self.load_field(self.v_t3, self.t["enum_longindex"], "i")
        il.branch("brtrue", generic)
        self.load_field(self.v_t3, self.t["enum_index"], "i8")
        il.ldc_i8(PY_SSIZE_T_MAX)
        il.branch("beq", generic)           # the index overflows into en_longindex
        self.load_field(self.v_t3, self.t["enum_iterator"], "i")
        il.stloc(self.v_t0)
        self.dispatch_on_iterator_type([("list_iter_type", sequence), ("tuple_iter_type", sequence)],
                                       generic)
        il.mark(sequence)
        self.next_from_sequence_iterator(depth, generic)
        self.load_field(self.v_t3, self.t["enum_index"], "i8")
        self.box_int(ins, depth + 1)        # keeps the index in v_ib
        self.slot_addr(depth + 1)
        il.ldloc(self.v_t2)
        il.op("stind.i")
        self.store_field_i8(self.v_t3, self.t["enum_index"], self.v_ib, 1)

    def dispatch_on_iterator_type(self, paths, otherwise):
        """Iterator in v_t0: its type into v_t1, then on to the label of the
        first (target type key, label) in paths that it is, else otherwise."""
        cdef ILBuilder il = self.il
        self.load_field(self.v_t0, self.t["ob_type"], "i")
        il.stloc(self.v_t1)
        for type_key, label in paths:
            il.ldloc(self.v_t1)
            il.ldc_ptr(self.t[type_key])
            il.branch("beq", label)
        il.branch("br", otherwise)

    def generic_for_iter(self, ins, depth):
        cdef ILBuilder il = self.il
        self.direct_capable_op("for_iter", ins, depth, depth)
        il.ldloc(self.v_status)
        il.branch("brtrue", self.label_for(ins.target))

    def next_from_sequence_iterator(self, depth, generic):
        """List or tuple iterator in v_t0 (its type in v_t1): push the next
        item, or go to generic at the end (the helper finishes the protocol)."""
        cdef ILBuilder il = self.il
        is_tuple = il.new_label()
        self.load_field(self.v_t0, self.t["seqiter_seq"], "i")
        il.stloc(self.v_t2)
        il.ldloc(self.v_t2)
        il.branch("brfalse", generic)
        self.load_field(self.v_t0, self.t["seqiter_index"], "i8")
        il.stloc(self.v_ia)
        il.ldloc(self.v_ia)
        self.load_field(self.v_t2, self.t["var_size"], "i8")
        il.branch("bge", generic)
        il.ldloc(self.v_t1)
        il.ldc_ptr(self.t["tuple_iter_type"])
        il.branch("beq", is_tuple)
        self.item_address(self.v_t2, is_tuple, self.v_ia)
        il.op("ldind.i")
        il.stloc(self.v_t2)
        self.store_field_i8(self.v_t0, self.t["seqiter_index"], self.v_ia, 1)
        self.store_new_reference(depth, self.v_t2)

    def item_address(self, v_seq, is_tuple, v_index):
        """Push the address of item [v_index] (an int64 local; None: the
        first item) of the list in v_seq -- or of the tuple, if the caller's
        type test jumped to is_tuple (None: there is none; TUPLES_ONLY:
        v_seq is a tuple): a list's items are behind a pointer, a tuple's
        inline."""
        cdef ILBuilder il = self.il
        have_items = il.new_label()
        if is_tuple is not TUPLES_ONLY:
            self.load_field(v_seq, self.t["list_items"], "i")
        if is_tuple is not None:
            if is_tuple is not TUPLES_ONLY:
                il.branch("br", have_items)
                il.mark(is_tuple)
            il.ldloc(v_seq)
            il.ldc_i4(self.t["tuple_items"])
            il.op("add")
        il.mark(have_items)
        if v_index is not None:
            il.ldloc(v_index)
            il.op("conv.i")
            il.ldc_i4(3)
            il.op("shl")
            il.op("add")

    def next_from_range_iterator(self, ins, depth, generic, unboxed):
        """Range iterator in v_t0: push start + index * step (left unboxed
        if asked: the slot NULL, the int64 in the depth's IL local), or go
        to generic at the end."""
        cdef ILBuilder il = self.il
        self.load_field(self.v_t0, self.t["rangeiter_index"], "i8")
        il.stloc(self.v_ia)
        il.ldloc(self.v_ia)
        self.load_field(self.v_t0, self.t["rangeiter_len"], "i8")
        il.branch("bge", generic)
        self.store_field_i8(self.v_t0, self.t["rangeiter_index"], self.v_ia, 1)
        self.load_field(self.v_t0, self.t["rangeiter_start"], "i8")
        il.ldloc(self.v_ia)
        self.load_field(self.v_t0, self.t["rangeiter_step"], "i8")
        il.op("mul")
        il.op("add")
        if unboxed:
            il.stloc(self.unboxed_local(depth, "int"))
            self.slot_addr(depth)
            il.ldc_ptr(0)
        else:
            self.box_int(ins, depth)
            self.slot_addr(depth)
            il.ldloc(self.v_t2)
        il.op("stind.i")

    def store_field_i8(self, v, offset, value_local, add):
        """field at offset of the object in v = value_local + add"""
        cdef ILBuilder il = self.il
        il.ldloc(v)
        il.ldc_i4(offset)
        il.op("add")
        il.ldloc(value_local)
        il.ldc_i4(add)
        il.op("conv.i8")
        il.op("add")
        il.op("stind.i8")

    # ----------------------------------------------------------- boxing
    def fail_if_null_t2(self, ins, depth):
        """v_t2 NULL (out of memory): the instruction raises, with `depth`
        values on the stack."""
        cdef ILBuilder il = self.il
        made = il.new_label()
        il.ldloc(self.v_t2)
        il.branch("brtrue", made)
        il.ldc_i4(-1)
        il.stloc(self.v_status)
        il.branch("br", self.error_stub(ins, depth))
        il.mark(made)

    def box_int(self, ins, depth):
        """v_t2 = the int for the int64 on the IL stack (left in v_ib): one
        of the interpreter's cached small ints (-5..256) without a call,
        else PyLong_FromLongLong.  Uses v_rem (not v_ia: STORE_ATTR keeps
        what it knows of the attribute there)."""
        cdef ILBuilder il = self.il
        big = il.new_label()
        done = il.new_label()
        il.stloc(self.v_ib)
        il.ldloc(self.v_ib)
        il.ldc_i8(self.t["small_ints_negative"])
        il.op("add")
        il.stloc(self.v_rem)
        il.ldloc(self.v_rem)
        il.ldc_i8(self.t["small_ints_count"])
        il.branch("bge.un", big)
        self.small_int_address(lambda: il.ldloc(self.v_rem))
        il.stloc(self.v_t2)
        self.incref_local(self.v_t2)
        il.branch("br", done)
        il.mark(big)
        il.ldloc(self.v_ib)
        self.call_native(self.helpers["PyLong_FromLongLong"], SIG_LONG_FROM_LONGLONG)
        il.stloc(self.v_t2)
        self.fail_if_null_t2(ins, depth)
        il.mark(done)

    def small_int_address(self, load_index):
        """Push the address of the interpreter's cached small int whose
        index in the cache (its value + small_ints_negative, in range)
        load_index() pushes."""
        cdef ILBuilder il = self.il
        il.ldc_ptr(self.t["small_ints"])
        load_index()
        il.op("conv.i")
        il.ldc_i4(self.t["long_object_size"])
        il.op("mul")
        il.op("add")

    def box_float(self, ins, depth):
        """v_t2 = a new float holding v_fa: taken from the interpreter's
        float free list without a call (as PyFloat_FromDouble does), unless
        the list is empty or tracemalloc is tracing new references."""
        cdef ILBuilder il = self.il
        slow = il.new_label()
        done = il.new_label()
        il.ldc_ptr(self.t["tracemalloc_tracing"])
        il.op("ldind.i4")
        il.branch("brtrue", slow)
        il.ldc_ptr(self.t["float_free_list"])
        il.op("ldind.i")
        il.stloc(self.v_t2)
        il.ldloc(self.v_t2)
        il.branch("brfalse", slow)
        # the list is linked through ob_type
        il.ldc_ptr(self.t["float_free_list"])
        self.load_field(self.v_t2, self.t["ob_type"], "i")
        il.op("stind.i")
        self.add_to_int32(self.t["float_numfree"], -1)
        il.ldloc(self.v_t2)
        il.ldc_i4(self.t["ob_type"])
        il.op("add")
        il.ldc_ptr(self.t["float_type"])
        il.op("stind.i")
        il.ldloc(self.v_t2)
        il.op("ldc.i4.1")
        il.op("conv.i")
        il.op("stind.i")                    # ob_refcnt = 1
        il.ldloc(self.v_t2)
        il.ldc_i4(self.t["float_value"])
        il.op("add")
        il.ldloc(self.v_fa)
        il.op("stind.r8")
        il.branch("br", done)
        self.cold(lambda: self.float_from_double(ins, depth), done, label=slow)
        il.mark(done)

    def float_from_double(self, ins, depth):
        """v_t2 = PyFloat_FromDouble(v_fa)"""
        cdef ILBuilder il = self.il
        il.ldloc(self.v_fa)
        self.call_native(self.helpers["PyFloat_FromDouble"], SIG_FLOAT_FROM_DOUBLE)
        il.stloc(self.v_t2)
        self.fail_if_null_t2(ins, depth)

    def decref_float(self, v):
        """Py_DECREF of an exact float in v: at zero it goes back on the free
        list without a call (as float_dealloc does)."""
        cdef ILBuilder il = self.il
        done = il.new_label()
        self.decrement_refcount(v, done)
        self.free_float(v)
        il.mark(done)

    def decref_value(self, v, nullable=False):
        """Py_DECREF of any object (or NULL if nullable) in v, where floats
        are common (a local or list item being replaced): a float at zero
        goes back on the free list without a call."""
        cdef ILBuilder il = self.il
        done, other = il.new_label(), il.new_label()
        if nullable:
            il.ldloc(v)
            il.branch("brfalse", done)
        self.decrement_refcount(v, done)
        self.branch_unless_type(v, self.t["float_type"], other)
        self.free_float(v)
        il.branch("br", done)
        self.cold(lambda: self.dealloc(v), done, label=other)
        il.mark(done)

    def free_float(self, v):
        """An exact float in v whose count reached zero: onto the free list,
        or to _Py_Dealloc when the list is full."""
        cdef ILBuilder il = self.il
        done = il.new_label()
        full = il.new_label()
        il.ldc_ptr(self.t["float_numfree"])
        il.op("ldind.i4")
        il.ldc_i4(self.t["float_max_free"])
        il.branch("bge", full)
        self.add_to_int32(self.t["float_numfree"], 1)
        il.ldloc(v)
        il.ldc_i4(self.t["ob_type"])
        il.op("add")
        il.ldc_ptr(self.t["float_free_list"])
        il.op("ldind.i")
        il.op("stind.i")
        il.ldc_ptr(self.t["float_free_list"])
        il.ldloc(v)
        il.op("stind.i")
        il.branch("br", done)
        self.cold(lambda: self.dealloc(v), done, label=full)
        il.mark(done)

    def add_to_int32(self, address, delta):
        cdef ILBuilder il = self.il
        il.ldc_ptr(address)
        il.ldc_ptr(address)
        il.op("ldind.i4")
        il.ldc_i4(delta)
        il.op("add")
        il.op("stind.i4")

    # -------------------------------------------------- UNPACK_SEQUENCE
    def op_UNPACK_SEQUENCE(self, ins, depth, into_locals=True):
        """[seq] -> [item n-1, ..., item 0] for a tuple or list of length n
        inline; its items stored in locals right away (into_locals: not
        after FOR_ITER, whose enumerate path makes no tuple) are one call,
        unless the inline path serves, which keeps the items in IL."""
        cdef ILBuilder il = self.il
        n = ins.oparg
        generic = il.new_label()
        done = il.new_label()
        inline = n <= 8 and self.inline_serves(ins)
        stores = self.stores_after(ins) if into_locals else None
        if stores is not None and (not inline or self.compact):
            self.unpack_into_locals(ins, depth, stores)
            return
        if inline:
            is_tuple = il.new_label()
            self.load_stack_value(depth - 1)
            il.stloc(self.v_t0)
            self.load_field(self.v_t0, self.t["var_size"], "i8")
            il.ldc_i4(n)
            il.op("conv.i8")
            il.branch("bne.un", generic)
            self.load_field(self.v_t0, self.t["ob_type"], "i")
            il.stloc(self.v_t1)
            il.ldloc(self.v_t1)
            il.ldc_ptr(self.t["tuple_type"])
            il.branch("beq", is_tuple)
            il.ldloc(self.v_t1)
            il.ldc_ptr(self.t["list_type"])
            il.branch("bne.un", generic)
            self.item_address(self.v_t0, is_tuple, None)
            il.stloc(self.v_t3)
            for i in range(n):
                il.ldloc(self.v_t3)
                il.ldc_i4(8 * i)
                il.op("add")
                il.op("ldind.i")
                il.stloc(self.v_t2)
                self.store_new_reference(depth - 1 + n - 1 - i, self.v_t2)
            self.release_stack_value(depth - 1, self.v_t0)
            il.branch("br", done)
        self.call_op_out_of_line(generic, done, "unpack_sequence", ins, depth, depth - 1)
        il.mark(done)

    def stores_after(self, ins):
        """The UNPACK_SEQUENCE's n STORE_FASTs, if they follow it in its
        block, one code unit each (the helpers read their opargs from the
        code), else None."""
        stores = []
        cur = ins
        if ins.oparg > UNPACK_MAX:
            return None
        for i in range(ins.oparg):
            cur = self.next_instr(cur)
            if (cur is None or cur.name != "STORE_FAST" or cur.index in self.a.block_starts
                    or cur.oparg > 0xFF or (stores and cur.index != stores[0].index + i)):
                return None
            stores.append(cur)
        return stores or None

    def unpack_into_locals(self, ins, depth, stores):
        """UNPACK_SEQUENCE and its STORE_FASTs: a leaf call does the stores
        for a tuple or list when they free no old value (ops.c), else the
        helper does them in the interpreter's order.  Both read the
        sequence where it is (a local's, borrowed, stays there)."""
        cdef ILBuilder il = self.il
        for store in stores:
            self.spill_readers_of_local(store.oparg)
        self.fused_through = stores[-1].index
        aux = self.units + 2 * stores[0].index
        owned = not self.is_deferred(depth - 1)
        done = il.new_label()
        self.load_stack_value(depth - 1)
        il.stloc(self.v_t0)
        self.call_unpack_into_locals("unpack_into_locals_leaf", SIG_UNPACK_INTO_LOCALS_LEAF,
                                     ins.oparg, aux)
        il.branch("brfalse", self.cold(
            lambda: self.unpack_into_locals_in_order(ins, depth, aux, owned), done))
        self.release_stack_value(depth - 1, self.v_t0)
        il.mark(done)

    def unpack_into_locals_in_order(self, ins, depth, aux, owned):
        cdef ILBuilder il = self.il
        self.call_unpack_into_locals("unpack_into_locals", SIG_UNPACK_INTO_LOCALS,
                                     ins.oparg | (UNPACK_OWNED if owned else 0), aux)
        il.stloc(self.v_status)
        il.ldloc(self.v_status)
        il.branch("brtrue", self.error_stub(ins, depth - 1))

    def call_unpack_into_locals(self, helper, signature, n, aux):
        """helper(frame, the sequence in v_t0, the STORE_FASTs at aux, n)"""
        cdef ILBuilder il = self.il
        il.op("ldarg.1")
        il.ldloc(self.v_t0)
        il.ldc_ptr(aux)
        il.ldc_i4(n)
        il.ldc_ptr(self.helpers[helper])
        self.calli_native(signature)

    # ---------------------------------------------- BINARY/STORE_SUBSCR
    def small_index(self, generic):
        """Container in v_t0, index in v_t1: v_ia = the index, if a
        one-digit int in range of the container's ob_size (a negative one
        counted from the end, as list, tuple and bytes count), else go to
        generic.  Any container's ob_size is read: the caller's type test
        follows."""
        cdef ILBuilder il = self.il
        counted = il.new_label()
        self.branch_unless_one_digit_int(self.v_t1, generic)
        constant = self.constant_operands.get(self.v_t1)
        self.load_small_int(self.v_t1)
        il.stloc(self.v_ia)
        if constant is None:
            il.ldloc(self.v_ia)
            il.op("ldc.i4.0")
            il.op("conv.i8")
            il.branch("bge", counted)
        if constant is None or constant < 0:
            # (a constant's sign is known: no block for the other case)
            il.ldloc(self.v_ia)
            self.load_field(self.v_t0, self.t["var_size"], "i8")
            il.op("add")
            il.stloc(self.v_ia)
        il.mark(counted)
        il.ldloc(self.v_ia)
        self.load_field(self.v_t0, self.t["var_size"], "i8")
        il.branch("bge.un", generic)        # past the end, or before the start

    def branch_on_sequence_type(self, cases, generic):
        """Go to the label of the exact type of v_t0 among `cases` ((type
        address, label) pairs), to generic for any other; a list falls
        through."""
        cdef ILBuilder il = self.il
        self.load_field(self.v_t0, self.t["ob_type"], "i")
        il.stloc(self.v_t3)
        for type_address, label in cases:
            il.ldloc(self.v_t3)
            il.ldc_ptr(type_address)
            il.branch("beq", label)
        il.ldloc(self.v_t3)
        il.ldc_ptr(self.t["list_type"])
        il.branch("bne.un", generic)

    def op_BINARY_SUBSCR(self, ins, depth):
        """A list's or tuple's item, or a bytes object's byte (one of the
        interpreter's cached small ints), by a one-digit index."""
        if not self.inline_serves(ins):
            self.generic_subscr(ins, depth)
            return
        cdef ILBuilder il = self.il
        generic = il.new_label()
        done = il.new_label()
        is_tuple, is_bytes, found = il.new_label(), il.new_label(), il.new_label()
        # the container types the feedback names (without any, all three)
        types = _SUBSCRIPTED_TYPES.get(ins.seen, ("list", "tuple", "bytes"))
        self.load_operands(depth)
        self.small_index(generic)
        if "list" in types:
            others = tuple((self.t[name + "_type"], label)
                           for name, label in (("tuple", is_tuple), ("bytes", is_bytes))
                           if name in types)
            self.branch_on_sequence_type(others, generic)
            self.item_address(self.v_t0, is_tuple if "tuple" in types else None, self.v_ia)
        else:
            self.branch_unless_type(self.v_t0, self.t["tuple_type"], generic)
            self.item_address(self.v_t0, TUPLES_ONLY, self.v_ia)
        il.op("ldind.i")
        il.stloc(self.v_t2)
        if "bytes" in types:
            il.branch("br", found)
            il.mark(is_bytes)

            def byte_index():
                il.ldloc(self.v_t0)
                il.ldc_i4(self.t["bytes_data"])
                il.op("add")
                il.ldloc(self.v_ia)
                il.op("conv.i")
                il.op("add")
                il.op("ldind.u1")
                il.ldc_i4(self.t["small_ints_negative"])
                il.op("add")
            self.small_int_address(byte_index)
            il.stloc(self.v_t2)
        il.mark(found)
        self.incref_local(self.v_t2)
        self.replace_operands(depth, "I", "I")
        il.branch("br", done)
        self.cold(lambda: self.generic_subscr(ins, depth), done, label=generic)
        il.mark(done)

    def generic_subscr(self, ins, depth):
        """BINARY_SUBSCR by PyObject_GetItem.  Where that would call a
        class's Python __getitem__, compiled code calls it itself
        (direct_call.c's pyj_subscr_prepare_direct): at sites where the
        interpreter gave up (it does not specialise __getitem__ calls
        while a frame hook is installed) or made the call itself; not in
        compact code (the longer call)."""
        if self.compact or ins.seen not in (GENERIC, "GETITEM"):
            self.call_op("binary_subscr", ins, depth, depth - 2)
            return
        self.spill(depth - 2, depth)
        self.direct_capable_op("binary_subscr_direct", ins, depth, depth - 2)

    def op_STORE_SUBSCR(self, ins, depth):
        """[value, container, index]"""
        if not self.inline_serves(ins):
            self.call_op("store_subscr", ins, depth, depth - 3)
            return
        cdef ILBuilder il = self.il
        generic = il.new_label()
        done, stored = il.new_label(), il.new_label()
        self.load_operands(depth)
        self.small_index(generic)
        self.branch_on_sequence_type((), generic)
        self.item_address(self.v_t0, None, self.v_ia)
        il.stloc(self.v_t3)
        note = self.store_at_address(self.v_t3, depth - 3, self.v_t2, stored)
        self.decref_value(self.v_t2)
        il.mark(stored)
        self.release_operand(self.v_t0, "N")
        self.release_operand(self.v_t1, "N")
        il.branch("br", done)
        if note is not None:
            self.deferred[depth - 3] = note         # the generic path boxes it
        self.call_op_out_of_line(generic, done, "store_subscr", ins, depth, depth - 3)
        il.mark(done)

    # -------------------------------------------------------- BINARY_OP
    def op_BINARY_OP(self, ins, depth):
        base = ins.oparg - NB_INPLACE if ins.oparg >= NB_INPLACE else ins.oparg
        if base not in _ARITH and base not in _INT_ONLY_ARITH and base != NB_POWER:
            self.generic_binary_op(ins, depth)
            return
        if base == NB_POWER:
            kinds = ("FF", "MX")            # never specialised
        elif base in _SPECIALIZED_ARITH:
            kinds = self.number_kinds(ins)
        elif base in _ARITH:
            # /: never specialised (no feedback), and often of a float by an int
            kinds = self.unspecialised_kinds(("FF", "II", "MX"), mix_likely=True)
        else:
            kinds = ("II",)
        if not kinds:
            self.generic_binary_op(ins, depth)
            return
        cdef ILBuilder il = self.il
        generic = il.new_label()
        done = il.new_label()
        labels = {kind: il.new_label() for kind in kinds}
        # the result may stay unboxed for its reader: an int or a float,
        # whichever the fast path made (NUMBER) if ints and floats are both
        # expected, else an int if two ints are, else a float
        # (if the interpreter saw one kind, only that kind's result: the
        # others' are boxed, the reader taking either)
        int_result = "II" in kinds and base not in _FLOAT_RESULT_OF_INTS
        seen = _SEEN_OPERANDS.get(ins.seen)
        forms = ("float",)
        if int_result and seen == "II":
            forms = ("int", "float")
        elif int_result and seen != "FF":
            forms = ((NUMBER,) if len(kinds) > 1 else ()) + ("int", "float")
        unboxed = next((form for form in forms
                        if self.read_unboxed_next(ins, depth - 2, form)), None)
        self.load_operands(depth)
        self.classify_operands(labels, generic, ints_first=seen == "II")
        for kinds, label in labels.items():
            if not il.is_targeted(label):
                continue                    # the operands' kinds rule it out
            il.mark(label)
            if kinds == "II" and int_result:
                self.int_arithmetic(ins, depth, base, generic, unboxed)
            else:
                self.float_arithmetic(ins, depth, base, kinds, generic, unboxed)
            il.branch("br", done)
        self.cold(lambda: self.generic_binary_op(ins, depth), done, label=generic)
        il.mark(done)

    def generic_binary_op(self, ins, depth):
        """BINARY_OP by the number protocol.  Where that would only call a
        Python dunder (see direct_call.c), compiled code calls it itself
        (ops.h's direct-capable helpers) -- at sites where the interpreter
        found operands it does not specialise (GENERIC).  Other sites keep
        the shorter helper call: without feedback they are mostly numeric
        loops compiled at their first call, which sit at RyuJIT's size
        limits (nbody's `advance`, 19,787 IL instructions, went over
        20,000 with the longer call and lost its fast paths), as does the
        last compaction level."""
        if self.compact >= 3 or ins.seen != GENERIC:
            self.call_op("binary_op", ins, depth, depth - 2)
            return
        self.spill(depth - 2, depth)
        self.direct_capable_op("binary_op_direct", ins, depth, depth - 2)

    def float_arithmetic(self, ins, depth, base, kinds, generic, unboxed):
        """Operands of kinds ("FF", "II" for /, or "MX": a float with an
        int) as doubles; the float result replaces them (a double, if the
        form left `unboxed` is "float" or NUMBER)."""
        cdef ILBuilder il = self.il
        left, right = ("N", "N") if kinds == "MX" else kinds
        if base == NB_POWER:
            self.float_power(left, right, generic)
        else:
            if _ARITH[base] == "div":
                # a zero divisor raises: leave it to the helper
                self.load_as_double(self.v_t1, right)
                il.op("ldc.i4.0")
                il.op("conv.r8")
                il.branch("beq", generic)
            self.load_as_double(self.v_t0, left)
            self.load_as_double(self.v_t1, right)
            il.op(_ARITH[base])
            il.stloc(self.v_fa)
        if unboxed_as(unboxed, "float"):
            il.ldloc(self.v_fa)
            self.leave_unboxed(depth - 2, "float", left, right, unboxed)
            return
        if kinds == "FF":
            self.store_float_result(ins, depth)
            return
        self.box_float(ins, depth)
        self.replace_operands(depth, left, right)

    def float_power(self, left, right, generic):
        """v_fa = left ** right by the C library's pow, as float.__pow__
        computes it once its special cases are excluded: a positive finite
        base, a finite exponent.  A result that is not a normal finite
        number (overflow raises, underflow may) goes to generic, which
        computes it again."""
        cdef ILBuilder il = self.il
        self.load_as_double(self.v_t0, left)
        il.stloc(self.v_fa)
        self.load_as_double(self.v_t1, right)
        il.stloc(self.v_fb)
        il.ldloc(self.v_fa)
        il.op("ldc.i4.0")
        il.op("conv.r8")
        il.branch("ble.un", generic)        # <= 0 or NaN
        for v in (self.v_fa, self.v_fb):    # x - x is 0 unless x is inf or NaN
            il.ldloc(v)
            il.ldloc(v)
            il.op("sub")
            il.op("ldc.i4.0")
            il.op("conv.r8")
            il.branch("bne.un", generic)
        il.ldloc(self.v_fa)
        il.ldloc(self.v_fb)
        self.call_native(self.helpers["pow"], SIG_POW, observes_frame=False)
        il.stloc(self.v_fa)
        il.ldloc(self.v_fa)
        il.ldc_r8(DBL_MIN)
        il.branch("blt.un", generic)
        il.ldloc(self.v_fa)
        il.ldc_r8(DBL_MAX)
        il.branch("bgt.un", generic)

    def int_arithmetic(self, ins, depth, base, generic, unboxed):
        """Two one-digit ints (|v| < 2**30): +, -, *, &, |, ^ cannot
        overflow int64, nor a shift by at most MAX_SHIFT (a larger or
        negative count goes to generic); // and % round as Python does.
        The result stays unboxed if the form `unboxed` is "int" or NUMBER."""
        cdef ILBuilder il = self.il
        op = _ARITH.get(base) or _INT_ONLY_ARITH[base]
        if op in ("floordiv", "mod"):
            self.floor_division(op, generic)
        elif op in ("shl", "shr"):
            self.load_small_int(self.v_t1)
            il.stloc(self.v_ib)
            il.ldloc(self.v_ib)
            il.ldc_i4(MAX_SHIFT)
            il.op("conv.i8")
            il.branch("bgt.un", generic)    # negative counts too
            self.load_small_int(self.v_t0)
            il.ldloc(self.v_ib)
            il.op("conv.i4")
            il.op(op)                       # shr: arithmetic, i.e. floor
        else:
            self.load_small_int(self.v_t0)
            self.load_small_int(self.v_t1)
            il.op(op)
        if unboxed_as(unboxed, "int"):
            self.leave_unboxed(depth - 2, "int", "I", "I", unboxed)
            return
        self.box_int(ins, depth)
        self.replace_operands(depth, "I", "I")

    def leave_unboxed(self, depth, kind, left_kind, right_kind, form):
        """The result on the IL stack, of `kind`, stays unboxed for the
        instruction that reads it next (no object made; see translate's
        deferred pushes): slot `depth` is NULL, the value in its IL local
        (and, for the form NUMBER, its kind in the depth's tag); the
        operands (of left_kind, right_kind) are released."""
        cdef ILBuilder il = self.il
        il.stloc(self.unboxed_local(depth, kind))
        if form == NUMBER:
            il.ldc_i4(1 if kind == "float" else 0)
            il.stloc(self.number_tag(depth))
        self.release_operand(self.v_t0, left_kind)
        self.release_operand(self.v_t1, right_kind)
        self.slot_addr(depth)
        il.ldc_ptr(0)
        il.op("stind.i")
        self.unboxed_result = (depth, form)

    def unboxed_local(self, depth, kind):
        """The IL local (i8 for an int, r8 for a float) an unboxed value of
        `kind` at stack depth `depth` lives in."""
        cdef ILBuilder il = self.il
        v = self.unboxed_locals.get((depth, kind))
        if v is None:
            v = self.unboxed_locals[depth, kind] = il.new_local(UNBOXED_KINDS[kind].il_type)
        return v

    def move_unboxed(self, source, target, form):
        """The IL locals of the value of `form` left unboxed at stack depth
        `source` are copied to those of depth `target` (a SWAP moving it)."""
        cdef ILBuilder il = self.il
        kinds = ("int", "float") if form == NUMBER else (form,)
        for kind in kinds:
            il.ldloc(self.unboxed_local(source, kind))
            il.stloc(self.unboxed_local(target, kind))
        if form == NUMBER:
            il.ldloc(self.number_tag(source))
            il.stloc(self.number_tag(target))

    def number_tag(self, depth):
        """The i4 IL local saying whether the NUMBER left unboxed at stack
        depth `depth` is a float (1) or an int (0)."""
        cdef ILBuilder il = self.il
        v = self.unboxed_locals.get((depth, NUMBER))
        if v is None:
            v = self.unboxed_locals[depth, NUMBER] = il.new_local("i4")
        return v

    def box_unboxed(self, depth, kind, small_ints_inline=False):
        """The slot at `depth` gets the object for the unboxed value (of
        `kind`, or NUMBER), raising MemoryError at the current instruction
        if none can be made.  Only a generic path boxes what the next
        reader was to take unboxed (read_unboxed_next): the call is short
        code.  A store that could not write the value in place asks for
        the cached small ints without a call (loop counters, `n -= 1` down
        to 0, pass through them)."""
        cdef ILBuilder il = self.il
        boxed = il.new_label()
        self.load_slot(depth)
        il.branch("brtrue", boxed)
        if kind == NUMBER:
            self.either_way(lambda: il.ldloc(self.number_tag(depth)),
                            lambda: self.box_unboxed_kind(depth, "float"),
                            lambda: self.box_unboxed_kind(depth, "int", small_ints_inline))
        else:
            self.box_unboxed_kind(depth, kind, small_ints_inline)
        if not (kind == "int" and small_ints_inline):    # box_int checked
            self.fail_if_null_t2(self.current_ins, self.current_depth)
        self.slot_addr(depth)
        il.ldloc(self.v_t2)
        il.op("stind.i")
        il.mark(boxed)

    def box_unboxed_kind(self, depth, kind, small_ints_inline=False):
        """v_t2 = the object for the unboxed value of `kind` at `depth`, or
        NULL if none could be made."""
        cdef ILBuilder il = self.il
        il.ldloc(self.unboxed_local(depth, kind))
        if kind == "int" and small_ints_inline:
            self.box_int(self.current_ins, self.current_depth)
            return
        boxing = UNBOXED_KINDS[kind]
        self.call_native(self.helpers[boxing.boxer], boxing.boxer_signature)
        il.stloc(self.v_t2)

    def floor_division(self, op, generic):
        """Push v_t0 // v_t1 or v_t0 % v_t1 (op "floordiv" or "mod") of two
        one-digit ints, rounding toward minus infinity as Python does
        (CIL's div and rem truncate); a zero divisor goes to generic."""
        cdef ILBuilder il = self.il
        adjusted = il.new_label()
        self.load_small_int(self.v_t1)
        il.stloc(self.v_ib)
        il.ldloc(self.v_ib)
        il.branch("brfalse", generic)       # ZeroDivisionError: the helper
        self.load_small_int(self.v_t0)
        il.stloc(self.v_ia)
        # truncated quotient in v_ia, remainder (sign of a) in v_rem =
        # a - q * b: one division (RyuJIT makes CIL's div and rem two idivs)
        il.ldloc(self.v_ia)
        il.ldloc(self.v_ia)
        il.ldloc(self.v_ib)
        il.op("div")
        il.op("dup")
        il.stloc(self.v_ia)
        il.ldloc(self.v_ib)
        il.op("mul")
        il.op("sub")
        il.stloc(self.v_rem)
        # remainder with the divisor's sign: floor adjustment
        il.ldloc(self.v_rem)
        il.branch("brfalse", adjusted)
        il.ldloc(self.v_rem)
        il.ldloc(self.v_ib)
        il.op("xor")
        il.op("ldc.i4.0")
        il.op("conv.i8")
        il.branch("bge", adjusted)
        il.ldloc(self.v_ia)
        il.op("ldc.i4.1")
        il.op("conv.i8")
        il.op("sub")
        il.stloc(self.v_ia)
        il.ldloc(self.v_rem)
        il.ldloc(self.v_ib)
        il.op("add")
        il.stloc(self.v_rem)
        il.mark(adjusted)
        il.ldloc(self.v_ia if op == "floordiv" else self.v_rem)

    def store_float_result(self, ins, depth):
        """The float in v_fa replaces the operands v_t0, v_t1 (both exact
        floats) on the stack.  An operand only the stack refers to is
        overwritten in place (nothing else can see it) and the other one
        released; otherwise a new float is made and both are released.  A
        borrowed operand is never the stack's alone; one that may be an
        unboxed float (NULL) is not tried."""
        cdef ILBuilder il = self.il
        stored = il.new_label()
        operands = (self.v_t0, self.v_t1)
        for v in operands:
            if self.borrowed[v] or unboxed_as(self.unboxed_kind(v), "float"):
                continue
            # v_t2: the result
            not_sole = il.new_label()
            self.branch_unless_sole_reference(v, not_sole)
            il.ldloc(v)
            il.stloc(self.v_t2)
            il.ldloc(self.v_t2)
            il.ldc_i4(self.t["float_value"])
            il.op("add")
            il.ldloc(self.v_fa)
            il.op("stind.r8")
            for other in operands:
                if other != v:
                    self.release_operand(other, "F")
            il.branch("br", stored)
            il.mark(not_sole)
        self.box_float(ins, depth)
        for v in operands:
            self.release_operand(v, "F")
        il.mark(stored)
        self.slot_addr(depth - 2)
        il.ldloc(self.v_t2)
        il.op("stind.i")

    def store_unboxed(self, form, index, depth):
        """STORE_FAST into local `index` of the int, float or NUMBER
        (`form`) left unboxed at depth-1.  When the local holds an object of
        the value's type that only it refers to, that object takes the new
        value in place: nothing else can see the change, and nothing is made
        or freed -- `x = x * y`, `i += 1` in a loop.  Otherwise (or when the
        value came as an object, from a path that made one) the value is
        boxed and stored as any other."""
        cdef ILBuilder il = self.il
        stored = il.new_label()

        def store_object():
            self.box_unboxed(depth - 1, form, small_ints_inline=True)
            del self.deferred[depth - 1]        # the slot holds it now
            self.local_addr(index)
            self.store_top_at_address(depth)

        otherwise = self.cold(store_object, stored)
        self.load_slot(depth - 1)
        il.branch("brtrue", otherwise)
        self.local_addr(index)
        il.op("ldind.i")
        il.stloc(self.v_t0)
        il.ldloc(self.v_t0)
        il.branch("brfalse", otherwise)
        self.overwrite_sole(form, self.v_t0, depth - 1, otherwise)
        il.mark(stored)

    def store_at_address(self, v_address, depth, v_old, stored):
        """Store the value at stack depth `depth` at the address in
        v_address, the stack's reference moving in, the object there before
        left in v_old for the caller to release.  A value left unboxed is
        first written into that object where it can be (store_unboxed_into:
        then on at `stored`).  Returns the deferred note of such a value,
        for the caller to restore for its helper's path (else None)."""
        cdef ILBuilder il = self.il
        note = None
        form = self.deferred.get(depth, ("",))[0]
        if form in UNBOXED_FORMS:
            self.store_unboxed_into(form, v_address, depth, stored)
            note = self.deferred.pop(depth)     # an object in its slot from here
        il.ldloc(v_address)
        il.op("ldind.i")
        il.stloc(v_old)
        il.ldloc(v_address)
        self.load_stack_reference(depth)
        il.op("stind.i")
        return note

    def store_unboxed_into(self, form, v_address, depth, stored):
        """STORE_SUBSCR or STORE_ATTR of the value (of `form`) left unboxed
        at `depth` into the list item or attribute at the address in
        v_address: when that holds an object of the value's type only it
        refers to, the object takes the new value in place (`v[i] -= x`,
        `self.n += 1` make and free nothing) and the code goes on at
        `stored`; otherwise the value is boxed into its slot (unless
        another path left an object there).  v_address and v_ia survive."""
        cdef ILBuilder il = self.il
        boxing = il.new_label()
        is_object = il.new_label()
        self.load_slot(depth)
        il.branch("brtrue", is_object)
        il.ldloc(v_address)
        il.op("ldind.i")
        il.stloc(self.v_t2)
        il.ldloc(self.v_t2)
        il.branch("brfalse", boxing)        # an attribute not set yet
        self.overwrite_sole(form, self.v_t2, depth, boxing)
        il.branch("br", stored)
        il.mark(boxing)
        self.box_unboxed(depth, form, small_ints_inline=True)
        il.mark(is_object)

    def overwrite_sole(self, form, v, depth, otherwise):
        """The value of `form` left unboxed at `depth` is written into the
        object in v (not NULL) if that is of its type and nothing else
        refers to it; else go to otherwise."""
        cdef ILBuilder il = self.il
        if form == NUMBER:
            self.either_way(lambda: il.ldloc(self.number_tag(depth)),
                            lambda: self.overwrite_sole_float(v, depth, otherwise),
                            lambda: self.overwrite_sole_int(v, depth, otherwise))
        elif form == "int":
            self.overwrite_sole_int(v, depth, otherwise)
        else:
            self.overwrite_sole_float(v, depth, otherwise)

    def overwrite_sole_float(self, v, depth, otherwise):
        """The float left unboxed at `depth` is written into the object in
        v if that is a float only one reference holds (a local's, a list
        item's: nothing else can see the change); else go to otherwise."""
        cdef ILBuilder il = self.il
        self.branch_unless_type(v, self.t["float_type"], otherwise)
        self.branch_unless_sole_reference(v, otherwise)
        il.ldloc(v)
        il.ldc_i4(self.t["float_value"])
        il.op("add")
        il.ldloc(self.unboxed_local(depth, "float"))
        il.op("stind.r8")

    def overwrite_sole_int(self, v, depth, otherwise):
        """The int left unboxed at `depth` is written into the object in v
        if that is an int only one reference holds, with a digit (size not
        0), and the value fits one digit but is not one of the cached small
        ints (a small value must be the cached object, as `is` and the
        interpreter's own results find it): size +-1, digit |value|.  Else
        go to otherwise."""
        cdef ILBuilder il = self.il
        value = self.unboxed_local(depth, "int")
        il.ldloc(value)
        il.ldc_i8(self.t["small_ints_negative"])
        il.op("add")
        il.ldc_i8(self.t["small_ints_count"])
        il.branch("blt.un", otherwise)
        il.ldloc(value)
        il.ldc_i8(ONE_DIGIT_MAX)
        il.op("add")
        il.ldc_i8(2 * ONE_DIGIT_MAX)
        il.branch("bgt.un", otherwise)
        self.branch_unless_type(v, self.t["long_type"], otherwise)
        self.branch_unless_sole_reference(v, otherwise)
        self.load_field(v, self.t["var_size"], "i8")
        il.branch("brfalse", otherwise)
        # size = value >> 63 | 1 (the sign); digit = (value ^ s) - s, s = value >> 63
        il.ldloc(value)
        il.ldc_i4(63)
        il.op("shr")
        il.stloc(self.v_rem)
        il.ldloc(v)
        il.ldc_i4(self.t["var_size"])
        il.op("add")
        il.ldloc(self.v_rem)
        il.op("ldc.i4.1")
        il.op("conv.i8")
        il.op("or")
        il.op("stind.i8")
        il.ldloc(v)
        il.ldc_i4(self.t["long_digit0"])
        il.op("add")
        il.ldloc(value)
        il.ldloc(self.v_rem)
        il.op("xor")
        il.ldloc(self.v_rem)
        il.op("sub")
        il.op("conv.i4")
        il.op("stind.i4")

    def branch_unless_sole_reference(self, v, label):
        cdef ILBuilder il = self.il
        il.ldloc(v)
        il.op("ldind.i")
        il.op("ldc.i4.1")
        il.op("conv.i")
        il.branch("bne.un", label)

    # ------------------------------------------------------- COMPARE_OP
    def op_COMPARE_OP(self, ins, depth):
        if ins.oparg not in _INT_COMPARE:
            self.call_op("compare_op", ins, depth, depth - 2)
            return
        jump = self.fused_jump(ins)
        # the interpreter specialises only a compare that a jump follows
        kinds = (self.number_kinds(ins) if jump is not None
                 else self.unspecialised_kinds(("FF", "II", "MX")))
        if not kinds:
            self.call_op("compare_op", ins, depth, depth - 2)
            return
        self.test_inline(ins, depth, "compare_op", jump,
                         lambda generic: self.compare_inline(ins, generic, kinds))

    def test_inline(self, ins, depth, helper, jump, emit_test):
        """A COMPARE_OP or CONTAINS_OP whose emit_test(generic) leaves its
        answer in v_cmp (0/1) for the operands it loaded, or goes to generic
        for the helper: the bool pushed, or the answer taken by the
        conditional jump that follows it, if given (fused: the block ends
        here)."""
        cdef ILBuilder il = self.il
        generic = il.new_label()
        after = il.new_label()
        if jump is not None:
            self.spill(0, depth - 2)
        emit_test(generic)
        self.release_operand(self.v_t0, "N")
        self.release_operand(self.v_t1, "N")
        if jump is not None:
            when_true = _FUSABLE_JUMPS[jump.name]
            self.fused_through = jump.index
            il.ldloc(self.v_cmp)
            il.branch("brtrue" if when_true else "brfalse", self.branch_target(jump, depth - 2))
            il.branch("br", after)
            self.cold(lambda: self.generic_test_and_jump(ins, depth, helper, jump, when_true),
                      after, label=generic)
        else:
            self.push_bool(self.v_cmp, depth - 2)
            il.branch("br", after)
            self.call_op_out_of_line(generic, after, helper, ins, depth, depth - 2)
        il.mark(after)

    def generic_test_and_jump(self, ins, depth, helper, jump, when_true):
        """Make the bool, then the jump as it would be emitted alone."""
        self.call_op(helper, ins, depth, depth - 2)
        self.current_index = jump.index     # the truth test is the jump's
        self.conditional(jump, depth - 1, when_true)

    def fused_jump(self, ins):
        """The conditional jump right after ins that can take its answer,
        or None."""
        nxt = self.next_instr(ins)
        if nxt is not None and nxt.name in _FUSABLE_JUMPS and nxt.index not in self.a.block_starts:
            return nxt
        return None

    # ------------------------------------------------------ CONTAINS_OP
    def op_CONTAINS_OP(self, ins, depth):
        """`x in a_list` (or `not in`) for an int of one digit: the items
        compared inline, each by identity and, an int, by value; no code
        runs meanwhile, so the list is read as it is.  An item of another
        type, or other operands, go to the helper, which compares from the
        start (the int items before it compared unequal, with no effect).
        Not in compact code, nor where ints are not written in place (the
        step before compacting: see translate.attempts)."""
        if self.compact or not self.ints_in_place:
            self.call_op("contains_op", ins, depth, depth - 2)
            return
        self.test_inline(ins, depth, "contains_op", self.fused_jump(ins),
                         lambda generic: self.int_in_list(ins, depth, generic))

    def int_in_list(self, ins, depth, generic):
        """v_cmp = whether the one-digit int in v_t0 is in the exact list
        in v_t1 (the answer inverted for `not in`); else go to generic."""
        cdef ILBuilder il = self.il
        found, absent, decided = il.new_label(), il.new_label(), il.new_label()
        loop, next_item = il.new_label(), il.new_label()
        self.load_operands(depth)
        self.branch_unless_type(self.v_t1, self.t["list_type"], generic)
        self.branch_unless_type(self.v_t0, self.t["long_type"], generic)
        self.branch_unless_small_int(self.v_t0, generic)
        # v_ia: the needle's size (-1, 0, 1), v_ib: its digit; v_rem: the
        # items left, v_t2: the next item's address
        self.load_field(self.v_t0, self.t["var_size"], "i8")
        il.stloc(self.v_ia)
        self.load_field(self.v_t0, self.t["long_digit0"], "u4")
        il.op("conv.u8")
        il.stloc(self.v_ib)
        self.load_field(self.v_t1, self.t["var_size"], "i8")
        il.stloc(self.v_rem)
        self.load_field(self.v_t1, self.t["list_items"], "i")
        il.stloc(self.v_t2)
        il.mark(loop)
        il.ldloc(self.v_rem)
        il.op("ldc.i4.0")
        il.op("conv.i8")
        il.branch("ble", absent)
        il.ldloc(self.v_t2)
        il.op("ldind.i")
        il.stloc(self.v_t3)
        il.ldloc(self.v_t3)
        il.ldloc(self.v_t0)
        il.branch("beq", found)
        self.load_field(self.v_t3, self.t["ob_type"], "i")
        il.ldc_ptr(self.t["long_type"])
        il.branch("bne.un", generic)
        self.load_field(self.v_t3, self.t["var_size"], "i8")
        il.ldloc(self.v_ia)
        il.branch("bne.un", next_item)
        il.ldloc(self.v_ia)
        il.branch("brfalse", found)         # both 0 (a zero's digit may not be there)
        self.load_field(self.v_t3, self.t["long_digit0"], "u4")
        il.op("conv.u8")
        il.ldloc(self.v_ib)
        il.branch("beq", found)
        il.mark(next_item)
        il.ldloc(self.v_t2)
        il.ldc_i4(self.ptr)
        il.op("add")
        il.stloc(self.v_t2)
        il.ldloc(self.v_rem)
        il.op("ldc.i4.1")
        il.op("conv.i8")
        il.op("sub")
        il.stloc(self.v_rem)
        il.branch("br", loop)
        il.mark(found)
        il.ldc_i4(1 - ins.oparg)
        il.branch("br", decided)
        il.mark(absent)
        il.ldc_i4(ins.oparg)
        il.mark(decided)
        il.stloc(self.v_cmp)

    def compare_inline(self, ins, generic, kinds):
        """Compare the two floats, small ints or a float and a small int (of
        the operand kinds asked)
        in slots depth-2, depth-1 (kept in v_t0, v_t1) into v_cmp (0/1);
        other operands go to generic."""
        cdef ILBuilder il = self.il
        depth = self.a.depth_before[ins.index]
        decided = il.new_label()
        labels = {kind: il.new_label() for kind in kinds}
        self.load_operands(depth)
        self.classify_operands(labels, generic, ints_first=_SEEN_OPERANDS.get(ins.seen) == "II")
        for kinds, label in labels.items():
            if not il.is_targeted(label):
                continue                    # the operands' kinds rule it out
            il.mark(label)
            if kinds == "II":
                self.load_int_operands()
                table = _INT_COMPARE
            else:
                # a one-digit int converts exactly, so the doubles compare
                # as float_richcompare compares a float with an int
                kind = "N" if kinds == "MX" else "F"
                self.load_as_double(self.v_t0, kind)
                self.load_as_double(self.v_t1, kind)
                table = _FLOAT_COMPARE
            for op in table[ins.oparg]:
                if op == "not":
                    il.op("ldc.i4.0")
                    il.op("ceq")
                else:
                    il.op(op)
            il.stloc(self.v_cmp)
            il.branch("br", decided)
        il.mark(decided)

    def push_bool(self, v_flag, slot):
        """Store True or False (by the i4 in v_flag) in stack slot `slot`."""
        cdef ILBuilder il = self.il
        false_label = il.new_label()
        chosen = il.new_label()
        il.ldloc(v_flag)
        il.branch("brfalse", false_label)
        il.ldc_ptr(self.t["py_true"])
        il.branch("br", chosen)
        il.mark(false_label)
        il.ldc_ptr(self.t["py_false"])
        il.mark(chosen)
        il.stloc(self.v_t2)
        self.store_new_reference(slot, self.v_t2)

    # -------------------------------------------------------- UNARY_NOT
    def op_UNARY_NOT(self, ins, depth):
        """not True / not False without a call; anything else asks the
        helper (which calls __bool__ / __len__)."""
        cdef ILBuilder il = self.il
        generic = il.new_label()
        done = il.new_label()
        self.load_slot(depth - 1)
        il.stloc(self.v_t0)
        il.ldloc(self.v_t0)
        il.ldc_ptr(self.t["py_false"])
        il.op("ceq")
        il.stloc(self.v_cmp)                # 1: the operand is False
        il.ldloc(self.v_cmp)
        is_bool = il.new_label()
        il.branch("brtrue", is_bool)
        il.ldloc(self.v_t0)
        il.ldc_ptr(self.t["py_true"])
        il.branch("bne.un", generic)
        il.mark(is_bool)
        self.decref_immortal_local(self.v_t0)
        self.push_bool(self.v_cmp, depth - 1)
        il.branch("br", done)
        self.call_op_out_of_line(generic, done, "unary_not", ins, depth, depth - 1)
        il.mark(done)

    def load_int_operands(self):
        self.load_small_int(self.v_t0)
        self.load_small_int(self.v_t1)


# The math functions math_function_call computes by the C library function
# math calls for them, and the closed range of arguments (NaN excluded) for
# which math only returns that function's result (mathmodule.c's math_1 and
# loghelper: no domain error, no overflow; log of a positive number).
_LARGEST_FLOAT = sys.float_info.max
MATH_DOMAINS = {"sqrt": (0.0, math.inf), "sin": (-_LARGEST_FLOAT, _LARGEST_FLOAT),
                "cos": (-_LARGEST_FLOAT, _LARGEST_FLOAT), "tan": (-_LARGEST_FLOAT, _LARGEST_FLOAT),
                "exp": (-700.0, 700.0), "log": (sys.float_info.min * sys.float_info.epsilon, math.inf)}

# The builtins consume_generator serves, in the order of ops.c's CONSUME_*.
GENERATOR_CONSUMERS = ("set", "tuple", "any", "all")

# CALLs done inline when the interpreter specialised the PRECALL before them
# so: (FastPaths emitter taking the stack depth and the label after the call,
# falling through to the call when its guards fail; the arguments it takes).
INLINE_CALLS = {
    "NO_KW_LIST_APPEND": (FastPaths.list_append, 1),
    "NO_KW_TYPE_1": (FastPaths.type_of, 1),
    "NO_KW_LEN": (FastPaths.length_of, 1),
    "NO_KW_ISINSTANCE": (FastPaths.instance_of, 2),
}

# Builtin classes whose iterator a CALL right before a GET_ITER makes at
# once (FastPaths.iterator_call): name -> (target description key of the
# class, helper, numbers of arguments)
ITERATOR_MAKERS = {"range": ("range_type", "range_iterator", (1, 2, 3)),
                   "reversed": ("reversed_type", "reversed_range_iterator", (1,))}

# CALLs the interpreter specialised to a direct call of a C function:
# (callable kind, the PyMethodDef flags it requires) for
# FastPaths.c_function_call.  isinstance is a METH_FASTCALL builtin.
C_CALLS = {
    "BUILTIN_CLASS": ("class", None),     # (tp_vectorcall's arguments: those of
                                        # METH_FASTCALL | METH_KEYWORDS)
    "NO_KW_BUILTIN_O": ("builtin", METH_O),
    "NO_KW_BUILTIN_FAST": ("builtin", METH_FASTCALL),
    "NO_KW_ISINSTANCE": ("builtin", METH_FASTCALL),
    "BUILTIN_FAST_WITH_KEYWORDS": ("builtin", METH_FASTCALL | METH_KEYWORDS),
    "NO_KW_METHOD_DESCRIPTOR_O": ("descriptor", METH_O),
    "NO_KW_METHOD_DESCRIPTOR_NOARGS": ("descriptor", METH_NOARGS),
    "NO_KW_METHOD_DESCRIPTOR_FAST": ("descriptor", METH_FASTCALL),
    "METHOD_DESCRIPTOR_FAST_WITH_KEYWORDS": ("descriptor", METH_FASTCALL | METH_KEYWORDS),
}

# The conventions a call is made by directly where the code runs without
# feedback and the callable's name gives no guess (a bound method of a
# builtin kept in a local, `perm1_ins = perm1.insert`; a module's function,
# `math.floor`), if it turns out to be a C function: the commonest first.
UNSEEN_BUILTIN_CONVENTIONS = (METH_FASTCALL, METH_O, METH_NOARGS, METH_FASTCALL | METH_KEYWORDS)

# Calls taken for specialised ones without feedback (guessed_call): the
# inline ones by the callable's name, the others by the C_CALLS form of the
# builtin or method descriptor of that name (any specialisation of a form
# emits the same code: the first is taken).
_GUESSED_BY_NAME = {("global", "len"): "NO_KW_LEN", ("global", "type"): "NO_KW_TYPE_1",
                    ("method", "append"): "NO_KW_LIST_APPEND"}
_SEEN_FOR_C_CALL = {}
for _seen, _form in C_CALLS.items():
    _SEEN_FOR_C_CALL.setdefault(_form, _seen)
