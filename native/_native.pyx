# cython: language_level=3
"""Python face of the native runtime: the frame hook, the per-code state,
the addresses of the runtime helpers and the struct layout that compiled
code depends on.  Everything the translator needs to know about the target
process comes from `target_description()`; it never reads memory itself."""

from cpython.object cimport PyObject, PyTypeObject
import builtins
import math
import types

cdef extern from "cpython311.h":
    Py_ssize_t PYJ_OFFSET_PREV_INSTR
    Py_ssize_t PYJ_OFFSET_LOCALSPLUS
    Py_ssize_t PYJ_OFFSET_STACKTOP
    Py_ssize_t PYJ_OFFSET_GEN_STATE_FROM_FRAME
    int PYJ_FRAME_SUSPENDED
    Py_ssize_t PYJ_OFFSET_GLOBALS
    Py_ssize_t PYJ_OFFSET_FRAME_FUNC
    Py_ssize_t PYJ_OFFSET_FUNC_CLOSURE
    Py_ssize_t PYJ_OFFSET_BUILTINS
    Py_ssize_t PYJ_OFFSET_OB_TYPE
    Py_ssize_t PYJ_OFFSET_DICT_VERSION
    Py_ssize_t PYJ_OFFSET_TYPE_VERSION
    Py_ssize_t PYJ_OFFSET_TYPE_ITER
    Py_ssize_t PYJ_OFFSET_TYPE_ITERNEXT
    Py_ssize_t PYJ_OFFSET_TYPE_VECTORCALL
    size_t PYJ_SELF_ITER
    size_t PYJ_NEXT_NOT_IMPLEMENTED
    Py_ssize_t PYJ_OFFSET_VALUES_FROM_OBJECT
    Py_ssize_t PYJ_OFFSET_FLOAT_VALUE
    Py_ssize_t PYJ_OFFSET_CELL_REF
    Py_ssize_t PYJ_OFFSET_LONG_DIGIT0
    Py_ssize_t PYJ_OFFSET_VAR_SIZE
    Py_ssize_t PYJ_OFFSET_DICT_USED
    Py_ssize_t PYJ_OFFSET_LIST_ITEMS
    Py_ssize_t PYJ_OFFSET_LIST_ALLOCATED
    Py_ssize_t PYJ_OFFSET_TUPLE_ITEMS
    Py_ssize_t PYJ_OFFSET_BYTES_DATA
    Py_ssize_t PYJ_OFFSET_MANAGED_DICT_FROM_OBJECT
    Py_ssize_t PYJ_OFFSET_CACHED_KEYS
    Py_ssize_t PYJ_OFFSET_KEYS_NENTRIES
    Py_ssize_t PYJ_OFFSET_DICT_KEYS
    Py_ssize_t PYJ_OFFSET_DICT_VALUES
    Py_ssize_t PYJ_OFFSET_KEYS_KIND
    Py_ssize_t PYJ_OFFSET_KEYS_VERSION
    Py_ssize_t PYJ_OFFSET_KEYS_LOG2_INDEX_BYTES
    Py_ssize_t PYJ_OFFSET_KEYS_LOG2_SIZE
    Py_ssize_t PYJ_OFFSET_STR_HASH
    Py_ssize_t PYJ_OFFSET_KEYS_INDICES
    int PYJ_DICT_KEYS_GENERAL
    Py_ssize_t PYJ_OFFSET_MODULE_DICT
    Py_ssize_t PYJ_OFFSET_CFUNCTION_DEF
    Py_ssize_t PYJ_OFFSET_CFUNCTION_SELF
    Py_ssize_t PYJ_OFFSET_DESCR_TYPE
    Py_ssize_t PYJ_OFFSET_DESCR_DEF
    Py_ssize_t PYJ_OFFSET_METHODDEF_FUNCTION
    Py_ssize_t PYJ_OFFSET_METHODDEF_FLAGS
    Py_ssize_t PYJ_OFFSET_RECURSION_REMAINING
    Py_ssize_t PYJ_UNICODE_ENTRY_SIZE
    Py_ssize_t PYJ_OFFSET_ENTRY_KEY
    Py_ssize_t PYJ_OFFSET_ENTRY_VALUE
    Py_ssize_t PYJ_OFFSET_SEQITER_INDEX
    Py_ssize_t PYJ_OFFSET_SEQITER_SEQ
    Py_ssize_t PYJ_OFFSET_RANGEITER_INDEX
    Py_ssize_t PYJ_OFFSET_RANGEITER_START
    Py_ssize_t PYJ_OFFSET_RANGEITER_STEP
    Py_ssize_t PYJ_OFFSET_RANGEITER_LEN
    Py_ssize_t PYJ_OFFSET_ENUM_INDEX
    Py_ssize_t PYJ_OFFSET_ENUM_ITERATOR
    Py_ssize_t PYJ_OFFSET_ENUM_LONGINDEX
    int pyj_iterators_match()
    int pyj_c_function_flags(PyObject *obj)
    int pyj_is_vectorcall_class(PyObject *obj)
    void *pyj_float_free_list_address(PyInterpreterState *interp)
    void *pyj_float_numfree_address(PyInterpreterState *interp)
    int PYJ_FLOAT_MAX_FREE
    void *pyj_tracemalloc_tracing_address()
    void *pyj_small_ints_address()
    int PYJ_SMALL_INTS_NEGATIVE
    int PYJ_SMALL_INTS_COUNT
    Py_ssize_t PYJ_LONG_OBJECT_SIZE
    ctypedef struct PyCodeObject:
        int co_nlocalsplus
        int co_stacksize
    ctypedef struct PyInterpreterState:
        pass
    PyInterpreterState *PyInterpreterState_Get()
    void *pyj_eval_breaker_address(PyInterpreterState *interp)
    void *PYJ_CODE_UNITS(PyCodeObject *co)

cdef extern from "ops.h":
    ctypedef struct pyj_helper_entry:
        const char *name
        void *address
    const pyj_helper_entry pyj_helper_table[]
    int pyj_ops_init() except -1

pyj_ops_init()

cdef extern from "direct_call.h":
    int pyj_direct_call_init(PyTypeObject *probe_class) except -1


class _SlotProbe:
    """Its slots are the ones a class gets from Python-level methods."""
    def __init__(self): pass
    def __getitem__(self, key): pass
    def __add__(self, other): pass
    def __and__(self, other): pass
    def __floordiv__(self, other): pass
    def __lshift__(self, other): pass
    def __matmul__(self, other): pass
    def __mul__(self, other): pass
    def __mod__(self, other): pass
    def __or__(self, other): pass
    def __rshift__(self, other): pass
    def __sub__(self, other): pass
    def __truediv__(self, other): pass
    def __xor__(self, other): pass


pyj_direct_call_init(<PyTypeObject *>_SlotProbe)

cdef extern from "host_signals.h":
    int pyj_save_host_signals()
    int pyj_restore_host_signals()


def save_signal_dispositions():
    """Before starting a runtime: remember Python's SIGINT/SIGQUIT/SIGTERM
    handling (see host_signals.c)."""
    if pyj_save_host_signals() != 0:
        raise OSError("sigaction failed")


def restore_signal_dispositions():
    """After starting a runtime: put Python's handling back."""
    if pyj_restore_host_signals() != 0:
        raise OSError("sigaction failed")


cdef extern from "startup_objects.h":
    int pyj_startup_objects_begin()
    void pyj_startup_objects_end(int freeze)


def startup_objects_begin():
    """Before starting a runtime: set the cyclic collector's generations
    aside, so the containers tracked from now on are the start-up's (see
    startup_objects.c).  False if it could not (another thread exists)."""
    return pyj_startup_objects_begin() == 1


def startup_objects_end(bint freeze):
    """After startup_objects_begin() returned True: the start-up's containers
    go to the permanent generation (freeze) or back to the generations."""
    pyj_startup_objects_end(freeze)


cdef extern from "site_cache.h":
    ctypedef struct pyj_site_entry:
        unsigned long long guard1
        unsigned long long guard2
        PyObject *value
    int PYJ_SITE_WAYS
    unsigned long long PYJ_SLOT_FLAG
    unsigned long long PYJ_DICT_FLAG
    unsigned long long PYJ_MANAGED_FLAG
    unsigned long long PYJ_BUILTIN_FLAG
    unsigned long long PYJ_MODULE_FLAG
    unsigned long long PYJ_CLASS_KEY
    ctypedef struct pyj_site_cache:
        pyj_site_entry way[4]

cdef extern from "gen_ops.h":
    int pyj_gen_discover_wrapped_value_type(object drive_probe)
    int pyj_gen_async_supported()

# Must be interpreted Python, not Cython: it is the async generator frame the
# discovery watches.
_ASYNC_GEN_PROBE = """
async def _probe():
    yield None

def drive():
    step = _probe().asend(None)
    try:
        step.send(None)
    except StopIteration:
        pass
"""


def _drive_async_gen_probe():
    namespace = {}
    exec(_ASYNC_GEN_PROBE, namespace)
    namespace["drive"]()


pyj_gen_discover_wrapped_value_type(_drive_async_gen_probe)

cdef extern from "hook.h":
    ctypedef struct pyj_code_state:
        int status
        Py_ssize_t calls
        Py_ssize_t compiled_calls
        PyObject *handle
        PyObject *record
        unsigned int globals_keys_version
        unsigned int builtins_keys_version
    int pyj_hook_install() except -1
    void pyj_hook_uninstall()
    int pyj_hook_installed()
    void pyj_hook_set_threshold(Py_ssize_t threshold)
    Py_ssize_t pyj_hook_get_threshold()
    void pyj_hook_set_compiler(object callback)
    void pyj_hook_set_releaser(object callback)
    void pyj_hook_set_backend_alive(int alive)
    void pyj_hook_set_direct_trampoline(void *fn)
    pyj_code_state *pyj_hook_state_for(PyCodeObject *code, int create)
    void *pyj_hook_site_caches(PyCodeObject *code, Py_ssize_t size) except NULL
    object pyj_hook_counters()

STATUS_NAMES = {0: "cold", 1: "compiled", 2: "interpreted", 3: "compiling"}


def install():
    pyj_hook_install()


def uninstall():
    pyj_hook_uninstall()


def installed():
    return bool(pyj_hook_installed())


def set_threshold(Py_ssize_t threshold):
    pyj_hook_set_threshold(threshold)


def get_threshold():
    return pyj_hook_get_threshold()


def set_compiler(callback):
    pyj_hook_set_compiler(callback)


def set_releaser(callback):
    pyj_hook_set_releaser(callback)


def set_backend_alive(bint alive):
    pyj_hook_set_backend_alive(alive)


def set_direct_trampoline(size_t address):
    """How the hook enters code that has a direct entry (0: through each
    method's own entry point); see hook.c."""
    pyj_hook_set_direct_trampoline(<void *>address)


def counters():
    return pyj_hook_counters()


def code_state(code):
    """(status, cold calls, compiled calls, record) for a code object."""
    if not isinstance(code, type(install.__code__)):
        raise TypeError("expected a code object")
    cdef pyj_code_state *st = pyj_hook_state_for(<PyCodeObject *>code, 0)
    if st == NULL:
        return ("cold", 0, 0, None)
    record = <object>st.record if st.record != NULL else None
    return (STATUS_NAMES.get(st.status, "?"), st.calls, st.compiled_calls, record)


cdef extern from "<math.h>":
    double c_sqrt "sqrt"(double x)
    double c_sin "sin"(double x)
    double c_cos "cos"(double x)
    double c_tan "tan"(double x)
    double c_exp "exp"(double x)
    double c_log "log"(double x)

# math's functions that compute their float result with the C library
# function of the same name (mathmodule.c), for compiled code to call that
# directly where the argument is one for which math adds nothing to it
# (specialize.pyx's MATH_DOMAINS).  The function objects are held here:
# compiled code knows them by address.
_MATH_FUNCTIONS = {"sqrt": math.sqrt, "sin": math.sin, "cos": math.cos, "tan": math.tan,
                   "exp": math.exp, "log": math.log}


def math_function_addresses():
    """{name: (address of math's function object, of the C function)}."""
    cdef size_t[6] c_functions = [<size_t>&c_sqrt, <size_t>&c_sin, <size_t>&c_cos,
                                  <size_t>&c_tan, <size_t>&c_exp, <size_t>&c_log]
    return {name: (id(function), c_functions[i])
            for i, (name, function) in enumerate(_MATH_FUNCTIONS.items())}


def helper_addresses():
    """{name: address} of every runtime helper compiled code may call."""
    cdef int i = 0
    table = {}
    while pyj_helper_table[i].name != NULL:
        table[pyj_helper_table[i].name.decode()] = <size_t>pyj_helper_table[i].address
        i += 1
    return table


def code_facts(code):
    """What compiled code needs to know about one code object that Python
    does not show: where its instructions live (prev_instr points into them)
    and how many localsplus slots precede the value stack."""
    if not isinstance(code, type(install.__code__)):
        raise TypeError("expected a code object")
    cdef PyCodeObject *co = <PyCodeObject *>code
    cdef pyj_code_state *st = pyj_hook_state_for(co, 0)
    return {"code_units": <size_t>PYJ_CODE_UNITS(co),
            "nlocalsplus": co.co_nlocalsplus,
            "stacksize": co.co_stacksize,
            # calls run by the interpreter before this compile
            "calls": st.calls if st != NULL else 0,
            # the keys versions of the globals and builtins of the call the
            # code was offered for compiling at (0: none): the interpreter's
            # LOAD_GLOBAL caches are current if they name these
            "globals_keys_version": st.globals_keys_version if st != NULL else 0,
            "builtins_keys_version": st.builtins_keys_version if st != NULL else 0}


def site_caches(code, Py_ssize_t count):
    """Address of `count` inline caches for `code` (site_cache.h), allocated
    once and freed with the code object."""
    if not isinstance(code, type(install.__code__)):
        raise TypeError("expected a code object")
    return <size_t>pyj_hook_site_caches(<PyCodeObject *>code, count * sizeof(pyj_site_cache))


ctypedef Py_ssize_t (*managed_builder_fn)(const char *name, const char *il, int il_len,
                                          int max_stack, const char *locals, int locals_len,
                                          Py_ssize_t *out) noexcept
ctypedef void (*managed_free_fn)(Py_ssize_t handle) noexcept


def call_managed_builder(size_t builder, bytes name, bytes il, int max_stack, bytes locals):
    """Call the CoreCLR backend's managed method builder (a native entry
    point into .NET) with the method's bytes: (entry address, GC handle,
    managed entry address), or (0, 0, 0) if .NET refused the method.
    Nothing crosses as an object, so a compile leaves nothing behind on the
    Python side."""
    cdef Py_ssize_t out[2]
    out[0] = out[1] = 0
    cdef Py_ssize_t entry = (<managed_builder_fn>builder)(
        name, il, len(il), max_stack, locals, len(locals), out)
    return entry, out[0], out[1]


def call_managed_free(size_t free, Py_ssize_t handle):
    (<managed_free_fn>free)(handle)


def bytes_address(bytes data):
    """Address of a bytes object's contents, for copying them into a .NET
    array in one call (valid while `data` is alive)."""
    cdef const char *p = data
    return <size_t>p


def _c_function_flags(objects):
    """{name: METH_* flags} of the builtin functions and method descriptors
    among (name, object) pairs, the first of each name."""
    out = {}
    for name, obj in objects:
        flags = pyj_c_function_flags(<PyObject *>obj)
        if flags >= 0 and name not in out:
            out[name] = flags
    return out


# Whose methods a call guessed without feedback is taken for (see
# FastPaths.guessed_call), in order of preference for a shared name.
_GUESSED_METHOD_OWNERS = (list, dict, str, set, bytes)


def target_description():
    """Layout facts and constant addresses compiled code is built against."""
    return {
        "builtin_function_flags": _c_function_flags(vars(builtins).items()),
        "method_descriptor_flags": _c_function_flags(
            item for owner in _GUESSED_METHOD_OWNERS for item in vars(owner).items()),
        "vectorcall_classes": frozenset(name for name, obj in vars(builtins).items()
                                        if pyj_is_vectorcall_class(<PyObject *>obj)),
        "pointer_size": sizeof(void *),
        "frame_prev_instr": PYJ_OFFSET_PREV_INSTR,
        "frame_localsplus": PYJ_OFFSET_LOCALSPLUS,
        "frame_stacktop": PYJ_OFFSET_STACKTOP,
        "gen_state_from_frame": PYJ_OFFSET_GEN_STATE_FROM_FRAME,
        "frame_suspended": PYJ_FRAME_SUSPENDED,
        "async_generators": bool(pyj_gen_async_supported()),
        "frame_globals": PYJ_OFFSET_GLOBALS,
        "frame_builtins": PYJ_OFFSET_BUILTINS,
        "frame_func": PYJ_OFFSET_FRAME_FUNC,
        "func_closure": PYJ_OFFSET_FUNC_CLOSURE,
        "ob_type": PYJ_OFFSET_OB_TYPE,
        "dict_version": PYJ_OFFSET_DICT_VERSION,
        "type_version": PYJ_OFFSET_TYPE_VERSION,
        "type_iter": PYJ_OFFSET_TYPE_ITER,
        "type_iternext": PYJ_OFFSET_TYPE_ITERNEXT,
        "type_vectorcall": PYJ_OFFSET_TYPE_VECTORCALL,
        "self_iter": PYJ_SELF_ITER,
        "next_not_implemented": PYJ_NEXT_NOT_IMPLEMENTED,
        "values_from_object": PYJ_OFFSET_VALUES_FROM_OBJECT,
        "float_type": id(float),
        "float_value": PYJ_OFFSET_FLOAT_VALUE,
        "cell_ref": PYJ_OFFSET_CELL_REF,
        "long_type": id(int),
        "long_digit0": PYJ_OFFSET_LONG_DIGIT0,
        "float_free_list": <size_t>pyj_float_free_list_address(PyInterpreterState_Get()),
        "float_numfree": <size_t>pyj_float_numfree_address(PyInterpreterState_Get()),
        "float_max_free": PYJ_FLOAT_MAX_FREE,
        "tracemalloc_tracing": <size_t>pyj_tracemalloc_tracing_address(),
        "small_ints": <size_t>pyj_small_ints_address(),
        "small_ints_negative": PYJ_SMALL_INTS_NEGATIVE,
        "small_ints_count": PYJ_SMALL_INTS_COUNT,
        "long_object_size": PYJ_LONG_OBJECT_SIZE,
        "var_size": PYJ_OFFSET_VAR_SIZE,
        "dict_used": PYJ_OFFSET_DICT_USED,
        "list_type": id(list),
        "list_items": PYJ_OFFSET_LIST_ITEMS,
        "list_allocated": PYJ_OFFSET_LIST_ALLOCATED,
        "list_append": id(list.append),
        "tuple_type": id(tuple),
        "tuple_items": PYJ_OFFSET_TUPLE_ITEMS,
        "bytes_type": id(bytes),
        "bytes_data": PYJ_OFFSET_BYTES_DATA,
        "managed_dict_from_object": PYJ_OFFSET_MANAGED_DICT_FROM_OBJECT,
        "type_cached_keys": PYJ_OFFSET_CACHED_KEYS,
        "keys_nentries": PYJ_OFFSET_KEYS_NENTRIES,
        "dict_type": id(dict),
        "type_type": id(type),
        "builtin_len": id(len),
        "builtin_isinstance": id(isinstance),
        "math_functions": math_function_addresses(),
        # the builtins FastPaths.consume_generator takes a generator for
        "generator_consumers": {"set": id(set), "tuple": id(tuple), "any": id(any),
                                "all": id(all)},
        "generator_type": id(types.GeneratorType),
        "module_type": id(types.ModuleType),
        "module_dict": PYJ_OFFSET_MODULE_DICT,
        "cfunction_type": id(type(len)),
        "cfunction_def": PYJ_OFFSET_CFUNCTION_DEF,
        "cfunction_self": PYJ_OFFSET_CFUNCTION_SELF,
        "method_descr_type": id(type(list.append)),
        "descr_type": PYJ_OFFSET_DESCR_TYPE,
        "descr_def": PYJ_OFFSET_DESCR_DEF,
        "methoddef_function": PYJ_OFFSET_METHODDEF_FUNCTION,
        "methoddef_flags": PYJ_OFFSET_METHODDEF_FLAGS,
        "tstate_recursion_remaining": PYJ_OFFSET_RECURSION_REMAINING,
        "dict_keys": PYJ_OFFSET_DICT_KEYS,
        "dict_values": PYJ_OFFSET_DICT_VALUES,
        "keys_kind": PYJ_OFFSET_KEYS_KIND,
        "keys_kind_general": PYJ_DICT_KEYS_GENERAL,
        "keys_version": PYJ_OFFSET_KEYS_VERSION,
        "keys_log2_index_bytes": PYJ_OFFSET_KEYS_LOG2_INDEX_BYTES,
        "keys_log2_size": PYJ_OFFSET_KEYS_LOG2_SIZE,
        "str_hash": PYJ_OFFSET_STR_HASH,
        "keys_indices": PYJ_OFFSET_KEYS_INDICES,
        "unicode_entry_size": PYJ_UNICODE_ENTRY_SIZE,
        "entry_key": PYJ_OFFSET_ENTRY_KEY,
        "entry_value": PYJ_OFFSET_ENTRY_VALUE,
        "inline_iterators": bool(pyj_iterators_match()),
        "list_iter_type": id(type(iter([]))),
        "tuple_iter_type": id(type(iter(()))),
        "range_type": id(range),
        "reversed_type": id(reversed),
        "range_iter_type": id(type(iter(range(0)))),
        "seqiter_index": PYJ_OFFSET_SEQITER_INDEX,
        "seqiter_seq": PYJ_OFFSET_SEQITER_SEQ,
        "rangeiter_index": PYJ_OFFSET_RANGEITER_INDEX,
        "rangeiter_start": PYJ_OFFSET_RANGEITER_START,
        "rangeiter_step": PYJ_OFFSET_RANGEITER_STEP,
        "rangeiter_len": PYJ_OFFSET_RANGEITER_LEN,
        "enumerate_type": id(enumerate),
        "enum_index": PYJ_OFFSET_ENUM_INDEX,
        "enum_iterator": PYJ_OFFSET_ENUM_ITERATOR,
        "enum_longindex": PYJ_OFFSET_ENUM_LONGINDEX,
        "site_cache_size": sizeof(pyj_site_cache),
        "site_cache_ways": PYJ_SITE_WAYS,
        "site_slot_flag": PYJ_SLOT_FLAG,
        "site_dict_flag": PYJ_DICT_FLAG,
        "site_managed_flag": PYJ_MANAGED_FLAG,
        "site_builtin_flag": PYJ_BUILTIN_FLAG,
        "site_module_flag": PYJ_MODULE_FLAG,
        "site_class_key": PYJ_CLASS_KEY,
        "site_entry_size": sizeof(pyj_site_entry),
        # compiled code checks the first entry inline (site_cache.h)
        "site_cache_guard1": <size_t>&(<pyj_site_cache *>0).way[0].guard1,
        "site_cache_guard2": <size_t>&(<pyj_site_cache *>0).way[0].guard2,
        "site_cache_value": <size_t>&(<pyj_site_cache *>0).way[0].value,
        "eval_breaker": <size_t>pyj_eval_breaker_address(PyInterpreterState_Get()),
        "py_true": id(True),
        "py_false": id(False),
        "py_none": id(None),
        "assertion_error": id(AssertionError),
        "helpers": helper_addresses(),
    }
