# cython: language_level=3
"""Bytecode decoding and analysis: the first two stages of the translator.

decode():  the un-specialised instructions of a code object (CACHE entries
           skipped, EXTENDED_ARG folded), with jump targets resolved to
           code-unit indices.
analyze(): stack depth before each reachable instruction, the exception
           handler covering each one, the instructions that start blocks,
           and the interpreter's type feedback for each instruction.

Everything here is specific to CPython 3.11's bytecode.
"""

import dis
import opcode as _opcode
from collections import namedtuple

CACHE = _opcode.opmap["CACHE"]
EXTENDED_ARG = _opcode.EXTENDED_ARG
_CACHES = _opcode._inline_cache_entries
_OPNAME = _opcode.opname

_FORWARD_JUMPS = frozenset(_opcode.opmap[n] for n in (
    "JUMP_FORWARD", "POP_JUMP_FORWARD_IF_FALSE", "POP_JUMP_FORWARD_IF_TRUE",
    "POP_JUMP_FORWARD_IF_NONE", "POP_JUMP_FORWARD_IF_NOT_NONE",
    "JUMP_IF_FALSE_OR_POP", "JUMP_IF_TRUE_OR_POP", "FOR_ITER", "SEND"))
_BACKWARD_JUMPS = frozenset(_opcode.opmap[n] for n in (
    "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT", "POP_JUMP_BACKWARD_IF_FALSE",
    "POP_JUMP_BACKWARD_IF_TRUE", "POP_JUMP_BACKWARD_IF_NONE",
    "POP_JUMP_BACKWARD_IF_NOT_NONE"))
_UNCONDITIONAL = frozenset(_opcode.opmap[n] for n in (
    "JUMP_FORWARD", "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT"))
# no fall-through after these
_TERMINAL = _UNCONDITIONAL | frozenset(_opcode.opmap[n] for n in (
    "RETURN_VALUE", "RAISE_VARARGS", "RERAISE"))

CO_VARARGS = 0x04
CO_VARKEYWORDS = 0x08
CO_GENERATOR = 0x20
CO_COROUTINE = 0x80
CO_ASYNC_GENERATOR = 0x200

PRECALL = _opcode.opmap["PRECALL"]
CALL = _opcode.opmap["CALL"]
RETURN_GENERATOR = _opcode.opmap["RETURN_GENERATOR"]
YIELD_VALUE = _opcode.opmap["YIELD_VALUE"]


class Instr:
    __slots__ = ("index", "opcode", "oparg", "name", "next_index", "target", "line", "seen",
                 "cached", "unrun")

    def __init__(self, index, op, oparg, next_index, target, line):
        self.index = index              # code-unit index of the opcode itself
        self.opcode = op
        self.oparg = oparg
        self.name = _OPNAME[op]
        self.next_index = next_index    # index after this instruction's caches
        self.target = target            # jump target index, or -1
        self.line = line
        self.seen = None                # type feedback (read_feedback)
        self.cached = None              # what the interpreter's inline cache holds (read_feedback)
        # not run since the interpreter quickened the code (read_feedback)
        self.unrun = False

    def __repr__(self):
        return "%d %s %d" % (self.index, self.name, self.oparg)


class Handler:
    """One exception-table entry: instructions in [start, end) jump to target
    with the stack cut to `depth` (plus lasti when `lasti`)."""
    __slots__ = ("start", "end", "target", "depth", "lasti")

    def __init__(self, start, end, target, depth, lasti):
        self.start, self.end, self.target, self.depth, self.lasti = start, end, target, depth, lasti

    def key(self):
        return (self.target, self.depth, self.lasti)


def decode(code):
    raw = code.co_code
    lines = {}
    for start, end, line in code.co_lines():
        for off in range(start, end, 2):
            lines[off // 2] = line
    instrs = []
    cdef int n = len(raw) // 2
    cdef int i = 0
    cdef int ext = 0
    cdef int op, arg, start_index
    start_index = -1
    # a jump may land on an EXTENDED_ARG prefix: map it to its instruction
    prefix_of = {}
    while i < n:
        op = raw[2 * i]
        arg = raw[2 * i + 1] | ext
        if op == EXTENDED_ARG:
            if start_index < 0:
                start_index = i
            ext = arg << 8
            i += 1
            continue
        if start_index >= 0:
            prefix_of[start_index] = i
            start_index = -1
        ext = 0
        index = i
        nxt = i + 1 + _CACHES[op]
        if op in _FORWARD_JUMPS:
            target = nxt + arg
        elif op in _BACKWARD_JUMPS:
            target = nxt - arg
        else:
            target = -1
        instrs.append(Instr(index, op, arg if op >= _opcode.HAVE_ARGUMENT else 0,
                            nxt, target, lines.get(index)))
        i = nxt
    for ins in instrs:
        if ins.target in prefix_of:
            ins.target = prefix_of[ins.target]
    return instrs, prefix_of


def exception_table(code, prefix_of=None):
    """Entries of co_exceptiontable (format: Objects/exception_handling_notes.txt
    in CPython): varints of start, length, target, and depth << 1 | lasti,
    all in code units; the first byte of each entry has bit 7 set."""
    prefix_of = prefix_of or {}
    cdef bytes table = code.co_exceptiontable
    cdef Py_ssize_t pos = 0, n = len(table)
    handlers = []
    while pos < n:
        start, pos = _varint(table, pos)
        length, pos = _varint(table, pos)
        target, pos = _varint(table, pos)
        dl, pos = _varint(table, pos)
        handlers.append(Handler(start, start + length, prefix_of.get(target, target),
                                dl >> 1, dl & 1))
    return handlers


cdef tuple _varint(bytes table, Py_ssize_t pos):
    cdef unsigned char b = table[pos]
    cdef long value = b & 63
    pos += 1
    while b & 64:
        b = table[pos]
        pos += 1
        value = (value << 6) | (b & 63)
    return value, pos


def stack_effect(instr, bint jump):
    """Stack effect as this translator sees it: PRECALL leaves the stack alone,
    CALL consumes callable, self-or-NULL and the arguments, and the code after
    RETURN_GENERATOR starts with the value of the first send() on the stack."""
    if instr.opcode == PRECALL:
        return 0
    if instr.opcode == RETURN_GENERATOR:
        return 1            # the value the generator's first send() pushes
    if instr.opcode == CALL:
        return -(instr.oparg + 1)
    if instr.opcode >= _opcode.HAVE_ARGUMENT:
        return dis.stack_effect(instr.opcode, instr.oparg, jump=jump)
    return dis.stack_effect(instr.opcode, jump=jump)


# Type feedback.  After a few calls the interpreter rewrites its copy of the
# bytecode (co_code_adaptive) with specialised instructions for what each
# site has seen: BINARY_OP_ADD_FLOAT, LOAD_ATTR_INSTANCE_VALUE, ...  A site
# still in its adaptive form with a non-zero counter is backing off after
# the specialiser failed on what it saw (say, a property, or a str + str).
_ALL_OPNAME = dis._all_opname
_SPECIALIZED = {family: frozenset(forms) for family, forms in dis._specializations.items()}
GENERIC = "generic"


def quickened(code):
    """Has the interpreter quickened code (run it warm), so that its
    specialised forms say what its sites saw?"""
    return code._co_code_adaptive != code.co_code


def read_feedback(code, instrs):
    """Set ins.seen for each instruction of a specialisable family: the
    suffix of the specialised form the interpreter chose ("ADD_FLOAT",
    "INSTANCE_VALUE", ...), GENERIC when the specialiser gave up on the
    site, or None when the site has not been specialised (the code has
    not run often enough in the interpreter, or the site not since).
    Returns whether the interpreter quickened the code (it ran warm): only
    then does an unspecialised site say that it has not run lately."""
    adaptive = code._co_code_adaptive
    for ins in instrs:
        forms = _SPECIALIZED.get(ins.name)
        if forms is None:
            continue
        name = _ALL_OPNAME[adaptive[2 * ins.index]]
        if name not in forms:
            continue
        if name.endswith("_ADAPTIVE"):
            # quickening leaves the counter 0; the first run specialises the
            # site or backs off (a nonzero counter) -- but for a CALL, which
            # a PRECALL specialised for a C callable makes itself, skipping it
            counter = adaptive[2 * ins.index + 2] | (adaptive[2 * ins.index + 3] << 8)
            ins.seen = GENERIC if counter else None
            ins.unrun = counter == 0 and ins.name != "CALL"
        else:
            ins.seen = name[len(ins.name) + 1:]
            layout = _CACHE_LAYOUTS.get((ins.name, ins.seen))
            if layout is not None:
                ins.cached = layout(*(_cache_field(adaptive, ins.index, at, units)
                                      for at, units in _CACHE_FIELDS[layout]))
    return quickened(code)


# What some specialised forms keep in their inline cache entries, as
# pycore_code.h lays them out (code units after the opcode; the first is
# the counter): an attribute's type version and where it is (the index in
# the inline values, or a __slots__ member's offset); a method's type
# version, the version of the instances' shared keys that lack its name,
# and the method itself (a borrowed reference the type keeps while its
# version holds); a global's entry index in the globals' (or builtins')
# keys and the keys versions that vouch for it (the builtins' in 16 bits);
# a module attribute's the same in the module's dict.
# (LOAD_ATTR_WITH_HINT's index is the entry of the instance's __dict__.)
# The compiled code checks the same guards the interpreter does before
# using them.
AttrCache = namedtuple("AttrCache", "type_version index")
MethodCache = namedtuple("MethodCache", "type_version keys_version descr")
GlobalCache = namedtuple("GlobalCache", "index module_keys_version builtin_keys_version")
# (a module attribute's: the module dict's keys version and the entry index,
# where AttrCache keeps a type version and an index; for LOAD_METHOD too)
ModuleCache = namedtuple("ModuleCache", "keys_version index")
_CACHE_FIELDS = {
    AttrCache: ((1, 2), (3, 1)),
    ModuleCache: ((1, 2), (3, 1)),
    MethodCache: ((1, 2), (4, 2), (6, 4)),
    GlobalCache: ((1, 1), (2, 2), (4, 1)),
}
_CACHE_LAYOUTS = {
    ("LOAD_GLOBAL", "MODULE"): GlobalCache, ("LOAD_GLOBAL", "BUILTIN"): GlobalCache,
    ("LOAD_ATTR", "MODULE"): ModuleCache, ("LOAD_METHOD", "MODULE"): ModuleCache,
    ("LOAD_ATTR", "INSTANCE_VALUE"): AttrCache, ("LOAD_ATTR", "SLOT"): AttrCache,
    ("LOAD_ATTR", "WITH_HINT"): AttrCache,
    ("STORE_ATTR", "INSTANCE_VALUE"): AttrCache, ("STORE_ATTR", "SLOT"): AttrCache,
    ("LOAD_METHOD", "WITH_VALUES"): MethodCache, ("LOAD_METHOD", "NO_DICT"): MethodCache,
}


def _cache_field(adaptive, int index, int at, int units):
    """The little-endian value of `units` code units of an instruction's
    inline cache from unit `at` (a code unit's value is its two bytes)."""
    cdef int start = 2 * (index + 1 + at)
    return int.from_bytes(adaptive[start:start + 2 * units], "little")


def parameter_count(code):
    flags = code.co_flags
    return (code.co_argcount + code.co_kwonlyargcount
            + bool(flags & CO_VARARGS) + bool(flags & CO_VARKEYWORDS))


def bound_before(code, instrs, handler_for):
    """{index: bit mask of the locals bound whenever the instruction is
    reached} for the reachable instructions: a forward dataflow from the
    parameters (bound by the call), a STORE_FAST binding its local and a
    DELETE_FAST unbinding it; where paths meet, the locals bound on each;
    an exception handler is reached from any instruction in its range,
    with what was bound both before and after it.  A LOAD_FAST of a local
    bound here needs no check (3.12's compiler makes the same proof for
    its LOAD_FAST; 3.11 checks every one at run time)."""
    position = {ins.index: pos for pos, ins in enumerate(instrs)}
    bound = {instrs[0].index: (1 << parameter_count(code)) - 1}
    worklist = [0]
    while worklist:
        pos = worklist.pop()
        ins = instrs[pos]
        before = after = bound[ins.index]
        if ins.name == "STORE_FAST":
            after = before | (1 << ins.oparg)
        elif ins.name == "DELETE_FAST":
            after = before & ~(1 << ins.oparg)
        edges = []
        handler = handler_for.get(ins.index)
        if handler is not None:
            edges.append((handler.target, before & after))
        if ins.target >= 0:
            edges.append((ins.target, after))
        if ins.opcode not in _TERMINAL and pos + 1 < len(instrs):
            edges.append((instrs[pos + 1].index, after))
        for index, mask in edges:
            known = bound.get(index)
            meet = mask if known is None else known & mask
            if meet != known:
                bound[index] = meet
                worklist.append(position[index])
    return bound


def callee_names(code, instrs, depth_before):
    """{PRECALL index: ("global", "method" or "attribute", name)} for calls
    whose callable was pushed by a LOAD_GLOBAL or LOAD_METHOD, or by a
    LOAD_ATTR of what a LOAD_GLOBAL pushed (`math.sqrt(x)` where math was
    imported by the module: 3.11 makes no LOAD_METHOD of that): the
    nearest instruction before the PRECALL that started at or below the
    callable's slot.  Across a branch that may name a load another path
    skips, so this is a guess, for code compiled without feedback; it is
    only ever used behind guards on the object actually called."""
    out = {}
    for pos, ins in enumerate(instrs):
        depth = depth_before.get(ins.index)
        if ins.name != "PRECALL" or depth is None:
            continue
        callable_slot = depth - ins.oparg - 1
        p = pos - 1
        while p >= 0 and depth_before.get(instrs[p].index, -1) > callable_slot:
            p -= 1
        if p < 0:
            continue
        load = instrs[p]
        attribute = instrs[p + 1]
        if (load.name == "LOAD_GLOBAL" and load.oparg & 1 and attribute.name == "LOAD_ATTR"
                and depth_before.get(attribute.index) == callable_slot + 1):
            out[ins.index] = ("attribute", code.co_names[attribute.oparg])
        elif load.name == "LOAD_GLOBAL" and load.oparg & 1:
            out[ins.index] = ("global", code.co_names[load.oparg >> 1])
        elif load.name == "LOAD_METHOD":
            out[ins.index] = ("method", code.co_names[load.oparg])
    return out


class Analysis:
    def __init__(self, instrs, handlers, depth_before, handler_for, block_starts, max_depth,
                 bound_before, callees, warmed, code_flags):
        self.instrs = instrs
        self.handlers = handlers
        self.depth_before = depth_before    # {index: depth} for reachable instructions
        self.handler_for = handler_for      # {index: Handler or None}
        self.block_starts = block_starts    # set of indices that are branch targets
        self.max_depth = max_depth
        self.bound_before = bound_before    # {index: mask of the locals bound there}
        self.callees = callees              # {PRECALL index: (kind, name)} (callee_names)
        self.warmed = warmed                # quickened by the interpreter (read_feedback)
        # indices of the instructions the interpreter has not run since it
        # quickened the code (unrun_instructions)
        self.unrun = unrun_instructions(instrs, block_starts) if warmed else frozenset()
        self.in_loops = loop_members(instrs)
        # ... and of a generator's that run once per generator
        # (once_per_generator): neither is where its time goes
        self.cold = self.unrun | once_per_generator(code_flags, instrs, self.in_loops)


def unrun_instructions(instrs, block_starts):
    """Indices of the instructions in straight-line runs (entered at their
    first instruction, left at their last short of an exception) that hold
    a specialisable instruction the interpreter has not run since it
    quickened the code: it has run none of them since."""
    runs, run = [], []
    for ins in instrs:
        if ins.index in block_starts and run:
            runs.append(run)
            run = []
        run.append(ins)
        if ins.target >= 0 or ins.opcode in _TERMINAL:
            runs.append(run)
            run = []
    runs.append(run)
    return frozenset(ins.index for run in runs if any(i.unrun for i in run) for ins in run)


def loop_members(instrs):
    """Indices of the instructions inside loops: from a backward jump's
    target to the jump (an except clause inside a loop jumps back from
    past the loop's own jump)."""
    # (no closures: the translator leaves no reference cycles)
    position = {ins.index: pos for pos, ins in enumerate(instrs)}
    inside = bytearray(len(instrs))
    for pos, jump in enumerate(instrs):
        if jump.opcode in _BACKWARD_JUMPS:
            inside[position[jump.target]:pos + 1] = b"\x01" * (pos + 1 - position[jump.target])
    return frozenset(ins.index for pos, ins in enumerate(instrs) if inside[pos])


def once_per_generator(code_flags, instrs, in_loops):
    """Indices of the instructions outside a generator's loops, when it
    yields inside one: each runs at most once per generator, while its
    compiled method is entered again at every resumption (a generator
    expression's loop).  Empty for other code."""
    if not code_flags & (CO_GENERATOR | CO_ASYNC_GENERATOR):
        return frozenset()
    if not any(ins.opcode == YIELD_VALUE and ins.index in in_loops for ins in instrs):
        return frozenset()
    return frozenset(ins.index for ins in instrs if ins.index not in in_loops)


def _handler_covering(handlers, int index):
    for h in handlers:
        if h.start <= index < h.end:
            return h
    return None


def analyze(code):
    instrs, prefix_of = decode(code)
    warmed = read_feedback(code, instrs)
    handlers = exception_table(code, prefix_of)
    by_index = {ins.index: pos for pos, ins in enumerate(instrs)}
    depth_before = {}
    block_starts = set()
    handler_for = {}
    worklist = [(0, 0)]
    max_depth = 0

    def reach(index, depth):
        seen = depth_before.get(index)
        if seen is None:
            depth_before[index] = depth
            worklist.append((by_index[index], depth))
        elif seen != depth:
            raise ValueError("inconsistent stack depth at %d: %d vs %d" % (index, seen, depth))

    depth_before[instrs[0].index] = 0
    while worklist:
        pos, depth = worklist.pop()
        ins = instrs[pos]
        if depth > max_depth:
            max_depth = depth
        h = _handler_covering(handlers, ins.index)
        handler_for[ins.index] = h
        if h is not None:
            block_starts.add(h.target)
            reach(h.target, h.depth + h.lasti + 1)
        if ins.target >= 0:
            block_starts.add(ins.target)
            reach(ins.target, depth + stack_effect(ins, True))
        if ins.opcode not in _TERMINAL:
            after = depth + stack_effect(ins, False)
            if after > max_depth:
                max_depth = after
            if pos + 1 < len(instrs):
                reach(instrs[pos + 1].index, after)
    for d in depth_before.values():
        if d > max_depth:
            max_depth = d
    return Analysis(instrs, handlers, depth_before, handler_for, block_starts, max_depth,
                    bound_before(code, instrs, handler_for),
                    callee_names(code, instrs, depth_before),
                    warmed, code.co_flags)
