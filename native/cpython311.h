/* Everything pyjion_clr needs from CPython's internal headers, in one place.
 *
 * The frame hook, the runtime helpers and the layout table the translator
 * reads all include this file and nothing else from CPython's internals, so
 * supporting another CPython version starts (and mostly ends) here.
 */
#ifndef PYJION_CPYTHON_VERSION_H
#define PYJION_CPYTHON_VERSION_H

#ifndef Py_BUILD_CORE
#define Py_BUILD_CORE 1
#endif
#include <Python.h>
#include <frameobject.h>
#include <structmember.h>

#if PY_VERSION_HEX < 0x030B0000 || PY_VERSION_HEX >= 0x030C0000
#error "pyjion_clr currently targets CPython 3.11 only"
#endif

#include "internal/pycore_frame.h"
#include "internal/pycore_code.h"
#include "internal/pycore_pystate.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_ceval.h"
#include "internal/pycore_runtime.h"
#include "internal/pycore_dict.h"
#include "internal/pycore_opcode.h"
#include "internal/pycore_object.h"
#include "internal/pycore_floatobject.h"
#include "internal/pycore_long.h"
#include "internal/pycore_pymem.h"
#include "internal/pycore_moduleobject.h"

typedef _PyInterpreterFrame PyjFrame;

/* Signature of a PEP 523 frame evaluator, and of a compiled entry point. */
typedef PyObject *(*pyj_entry_fn)(PyThreadState *, PyjFrame *, int);

#define PYJ_CODE_UNITS(co) (_PyCode_CODE(co))

/* Offsets compiled code uses to reach into a frame. */
#define PYJ_OFFSET_PREV_INSTR ((Py_ssize_t)offsetof(_PyInterpreterFrame, prev_instr))
#define PYJ_OFFSET_LOCALSPLUS ((Py_ssize_t)offsetof(_PyInterpreterFrame, localsplus))
#define PYJ_OFFSET_STACKTOP ((Py_ssize_t)offsetof(_PyInterpreterFrame, stacktop))
/* A generator's frame lives inside the generator object: its gi_frame_state
 * (int8) is at this (negative) distance from the frame. */
#define PYJ_OFFSET_GEN_STATE_FROM_FRAME \
    ((Py_ssize_t)offsetof(PyGenObject, gi_frame_state) - (Py_ssize_t)offsetof(PyGenObject, gi_iframe))
#define PYJ_FRAME_SUSPENDED FRAME_SUSPENDED
#define PYJ_OFFSET_GLOBALS ((Py_ssize_t)offsetof(_PyInterpreterFrame, f_globals))
#define PYJ_OFFSET_BUILTINS ((Py_ssize_t)offsetof(_PyInterpreterFrame, f_builtins))
#define PYJ_OFFSET_FRAME_FUNC ((Py_ssize_t)offsetof(_PyInterpreterFrame, f_func))
#define PYJ_OFFSET_FUNC_CLOSURE ((Py_ssize_t)offsetof(PyFunctionObject, func_closure))

/* Object layouts the inline fast paths read. */
#define PYJ_OFFSET_OB_TYPE ((Py_ssize_t)offsetof(PyObject, ob_type))
#define PYJ_OFFSET_DICT_VERSION ((Py_ssize_t)offsetof(PyDictObject, ma_version_tag))
#define PYJ_OFFSET_TYPE_VERSION ((Py_ssize_t)offsetof(PyTypeObject, tp_version_tag))
#define PYJ_OFFSET_TYPE_ITER ((Py_ssize_t)offsetof(PyTypeObject, tp_iter))
#define PYJ_OFFSET_TYPE_ITERNEXT ((Py_ssize_t)offsetof(PyTypeObject, tp_iternext))
#define PYJ_OFFSET_TYPE_VECTORCALL ((Py_ssize_t)offsetof(PyTypeObject, tp_vectorcall))
/* tp_iter of the types whose objects are their own iterators, and the
 * tp_iternext that makes an object no iterator (PyIter_Check) */
#define PYJ_SELF_ITER ((size_t)&PyObject_SelfIter)
#define PYJ_NEXT_NOT_IMPLEMENTED ((size_t)&_PyObject_NextNotImplemented)
/* _PyObject_ValuesPointer: the inline values of a managed-dict object */
#define PYJ_OFFSET_VALUES_FROM_OBJECT (-4 * (Py_ssize_t)sizeof(PyObject *))
#define PYJ_OFFSET_FLOAT_VALUE ((Py_ssize_t)offsetof(PyFloatObject, ob_fval))
#define PYJ_OFFSET_CELL_REF ((Py_ssize_t)offsetof(PyCellObject, ob_ref))
/* ob_size: the length of a list or tuple; for an int, the signed digit
 * count, so -1..1 means |value| < 2**30 */
#define PYJ_OFFSET_VAR_SIZE ((Py_ssize_t)offsetof(PyVarObject, ob_size))
#define PYJ_OFFSET_DICT_USED ((Py_ssize_t)offsetof(PyDictObject, ma_used))
#define PYJ_OFFSET_LONG_DIGIT0 ((Py_ssize_t)offsetof(PyLongObject, ob_digit))
#define PYJ_OFFSET_LIST_ITEMS ((Py_ssize_t)offsetof(PyListObject, ob_item))
#define PYJ_OFFSET_LIST_ALLOCATED ((Py_ssize_t)offsetof(PyListObject, allocated))
#define PYJ_OFFSET_TUPLE_ITEMS ((Py_ssize_t)offsetof(PyTupleObject, ob_item))
#define PYJ_OFFSET_BYTES_DATA ((Py_ssize_t)offsetof(PyBytesObject, ob_sval))
#define PYJ_OFFSET_MANAGED_DICT_FROM_OBJECT (-3 * (Py_ssize_t)sizeof(PyObject *))
#define PYJ_OFFSET_CACHED_KEYS ((Py_ssize_t)offsetof(PyHeapTypeObject, ht_cached_keys))
#define PYJ_OFFSET_KEYS_NENTRIES ((Py_ssize_t)offsetof(PyDictKeysObject, dk_nentries))
/* A dict's entries: keys object, its kind, version and entry table (after
 * 2**dk_log2_index_bytes bytes of indices); str-keyed entries are
 * (me_key, me_value) pairs, a split dict's values are in ma_values */
#define PYJ_OFFSET_DICT_KEYS ((Py_ssize_t)offsetof(PyDictObject, ma_keys))
#define PYJ_OFFSET_DICT_VALUES ((Py_ssize_t)offsetof(PyDictObject, ma_values))
#define PYJ_OFFSET_KEYS_KIND ((Py_ssize_t)offsetof(PyDictKeysObject, dk_kind))
#define PYJ_OFFSET_KEYS_VERSION ((Py_ssize_t)offsetof(PyDictKeysObject, dk_version))
#define PYJ_OFFSET_KEYS_LOG2_SIZE ((Py_ssize_t)offsetof(PyDictKeysObject, dk_log2_size))
#define PYJ_OFFSET_STR_HASH ((Py_ssize_t)offsetof(PyASCIIObject, hash))
#define PYJ_OFFSET_KEYS_LOG2_INDEX_BYTES ((Py_ssize_t)offsetof(PyDictKeysObject, dk_log2_index_bytes))
#define PYJ_OFFSET_KEYS_INDICES ((Py_ssize_t)offsetof(PyDictKeysObject, dk_indices))
#define PYJ_OFFSET_MODULE_DICT ((Py_ssize_t)offsetof(PyModuleObject, md_dict))
/* Calling a C function as the interpreter's specialised PRECALLs do: a
 * builtin's PyMethodDef and self, a method descriptor's PyMethodDef and
 * owning type, and the thread's recursion budget (non-vectorcall calls are
 * counted against it) */
#define PYJ_OFFSET_CFUNCTION_DEF ((Py_ssize_t)offsetof(PyCFunctionObject, m_ml))
#define PYJ_OFFSET_CFUNCTION_SELF ((Py_ssize_t)offsetof(PyCFunctionObject, m_self))
#define PYJ_OFFSET_DESCR_TYPE ((Py_ssize_t)offsetof(PyMethodDescrObject, d_common.d_type))
#define PYJ_OFFSET_DESCR_DEF ((Py_ssize_t)offsetof(PyMethodDescrObject, d_method))
#define PYJ_OFFSET_METHODDEF_FUNCTION ((Py_ssize_t)offsetof(PyMethodDef, ml_meth))
#define PYJ_OFFSET_METHODDEF_FLAGS ((Py_ssize_t)offsetof(PyMethodDef, ml_flags))
#define PYJ_OFFSET_RECURSION_REMAINING ((Py_ssize_t)offsetof(PyThreadState, recursion_remaining))
#define PYJ_DICT_KEYS_GENERAL DICT_KEYS_GENERAL
#define PYJ_UNICODE_ENTRY_SIZE ((Py_ssize_t)sizeof(PyDictUnicodeEntry))
#define PYJ_OFFSET_ENTRY_KEY ((Py_ssize_t)offsetof(PyDictUnicodeEntry, me_key))
#define PYJ_OFFSET_ENTRY_VALUE ((Py_ssize_t)offsetof(PyDictUnicodeEntry, me_value))

/* The float free list (floatobject.c pops and pushes it in PyFloat_FromDouble
 * and float_dealloc; compiled code does the same inline) and the cached
 * small ints. */
static inline void *pyj_float_free_list_address(PyInterpreterState *interp) {
    return (void *)&interp->float_state.free_list;
}
static inline void *pyj_float_numfree_address(PyInterpreterState *interp) {
    return (void *)&interp->float_state.numfree;
}
#define PYJ_FLOAT_MAX_FREE PyFloat_MAXFREELIST
/* new references must be reported to tracemalloc while it traces */
static inline void *pyj_tracemalloc_tracing_address(void) {
    return (void *)&_Py_tracemalloc_config.tracing;
}
static inline void *pyj_small_ints_address(void) {
    return (void *)&_PyLong_SMALL_INTS[0];
}
#define PYJ_SMALL_INTS_NEGATIVE _PY_NSMALLNEGINTS
#define PYJ_SMALL_INTS_COUNT (_PY_NSMALLNEGINTS + _PY_NSMALLPOSINTS)
#define PYJ_LONG_OBJECT_SIZE ((Py_ssize_t)sizeof(PyLongObject))

/* Iterator layouts private to listobject.c, tupleobject.c, rangeobject.c
 * and enumobject.c in 3.11, mirrored for inline FOR_ITER (and the range
 * object, for the iterators pyj_range_iterator and
 * pyj_reversed_range_iterator make);
 * pyj_iterators_match() checks the sizes against the types before the fast
 * paths are used. */
typedef struct { PyObject_HEAD Py_ssize_t it_index; PyListObject *it_seq; } pyj_listiter;
typedef struct { PyObject_HEAD Py_ssize_t it_index; PyTupleObject *it_seq; } pyj_tupleiter;
typedef struct { PyObject_HEAD long index; long start; long step; long len; } pyj_rangeiter;
typedef struct {
    PyObject_HEAD
    PyObject *start;
    PyObject *stop;
    PyObject *step;
    PyObject *length;
} pyj_range;
typedef struct {
    PyObject_HEAD
    Py_ssize_t en_index;
    PyObject *en_sit;
    PyObject *en_result;
    PyObject *en_longindex;     /* the index once it passed PY_SSIZE_T_MAX */
    PyObject *one;              /* borrowed: the int 1 */
} pyj_enumerate;

static inline int pyj_iterators_match(void) {
    return PyListIter_Type.tp_basicsize == sizeof(pyj_listiter)
        && PyTupleIter_Type.tp_basicsize == sizeof(pyj_tupleiter)
        && PyRangeIter_Type.tp_basicsize == sizeof(pyj_rangeiter)
        && PyRange_Type.tp_basicsize == sizeof(pyj_range)
        && PyEnum_Type.tp_basicsize == sizeof(pyj_enumerate);
}
#define PYJ_OFFSET_SEQITER_INDEX ((Py_ssize_t)offsetof(pyj_listiter, it_index))
#define PYJ_OFFSET_SEQITER_SEQ ((Py_ssize_t)offsetof(pyj_listiter, it_seq))
#define PYJ_OFFSET_RANGEITER_INDEX ((Py_ssize_t)offsetof(pyj_rangeiter, index))
#define PYJ_OFFSET_RANGEITER_START ((Py_ssize_t)offsetof(pyj_rangeiter, start))
#define PYJ_OFFSET_RANGEITER_STEP ((Py_ssize_t)offsetof(pyj_rangeiter, step))
#define PYJ_OFFSET_RANGEITER_LEN ((Py_ssize_t)offsetof(pyj_rangeiter, len))
#define PYJ_OFFSET_ENUM_INDEX ((Py_ssize_t)offsetof(pyj_enumerate, en_index))
#define PYJ_OFFSET_ENUM_ITERATOR ((Py_ssize_t)offsetof(pyj_enumerate, en_sit))
#define PYJ_OFFSET_ENUM_LONGINDEX ((Py_ssize_t)offsetof(pyj_enumerate, en_longindex))

static inline int pyj_is_generator_code(PyCodeObject *code) {
    return (code->co_flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)) != 0;
}
static inline int pyj_frame_owned_by_generator(PyjFrame *frame) {
    return frame->owner == FRAME_OWNED_BY_GENERATOR;
}

/* The interpreter's flag word that compiled code polls on loop back edges. */
static inline void *pyj_eval_breaker_address(PyInterpreterState *interp) {
    return (void *)&interp->ceval.eval_breaker;
}

/* Is it set (something for the eval-breaker handler to do)? */
static inline int pyj_eval_breaker_set(PyThreadState *ts) {
    return _Py_atomic_load_relaxed(&ts->interp->ceval.eval_breaker) != 0;
}

/* codeobject.c's private layout of co_extra (PEP 523 per-code slots), read
 * directly on every call instead of through _PyCode_GetExtra. */
typedef struct {
    Py_ssize_t ce_size;
    void *ce_extras[1];
} pyj_code_extra;

static inline void *pyj_code_extra_slot(PyCodeObject *code, Py_ssize_t index) {
    pyj_code_extra *extra = (pyj_code_extra *)code->co_extra;
    return (extra != NULL && index < extra->ce_size) ? extra->ce_extras[index] : NULL;
}

/* Would one more tracked object start a collection of the cyclic GC (which
 * runs finalizers: Python code)?  As _PyObject_GC_Link decides. */
static inline int pyj_gc_would_collect(PyThreadState *ts) {
    struct _gc_runtime_state *gc = &ts->interp->gc;
    return gc->enabled && gc->generations[0].threshold != 0 && !gc->collecting
        && gc->generations[0].count + 1 > gc->generations[0].threshold;
}

/* A class of metaclass type called through its own vectorcall (range,
 * list, set, reversed...), as the interpreter's PRECALL_BUILTIN_CLASS
 * calls it. */
static inline int pyj_is_vectorcall_class(PyObject *obj) {
    return Py_IS_TYPE(obj, &PyType_Type) && ((PyTypeObject *)obj)->tp_vectorcall != NULL;
}

/* The METH_* flags of a builtin function or method descriptor, else -1. */
static inline int pyj_c_function_flags(PyObject *obj) {
    if (Py_IS_TYPE(obj, &PyCFunction_Type)) {
        return ((PyCFunctionObject *)obj)->m_ml->ml_flags;
    }
    if (Py_IS_TYPE(obj, &PyMethodDescr_Type)) {
        return ((PyMethodDescrObject *)obj)->d_method->ml_flags;
    }
    return -1;
}

/* The keys version of an exact dict (the interpreter's specialised
 * LOAD_GLOBALs record it), 0 if it has none or is not one. */
static inline uint32_t pyj_dict_keys_version(PyObject *dict) {
    return PyDict_CheckExact(dict) ? ((PyDictObject *)dict)->ma_keys->dk_version : 0;
}

static inline int pyj_tracing_active(PyThreadState *ts) {
    return ts->cframe->use_tracing != 0;
}

/* Linking and unlinking an entry frame exactly as _PyEval_EvalFrameDefault's
 * prologue and epilogue do (the caller pushes and pops the frame itself). */
typedef struct {
    _PyCFrame cframe;
} pyj_frame_link;

static inline void pyj_link_frame(PyThreadState *ts, PyjFrame *frame, pyj_frame_link *link) {
    _PyCFrame *prev = ts->cframe;
    link->cframe.use_tracing = prev->use_tracing;
    link->cframe.previous = prev;
    ts->cframe = &link->cframe;
    frame->is_entry = true;
    frame->previous = prev->current_frame;
    link->cframe.current_frame = frame;
}

static inline void pyj_unlink_frame(PyThreadState *ts, pyj_frame_link *link) {
    ts->cframe = link->cframe.previous;
    ts->cframe->use_tracing = link->cframe.use_tracing;
}

static inline int pyj_enter_recursive_call(PyThreadState *ts) {
    return _Py_EnterRecursiveCallTstate(ts, "");
}

static inline void pyj_leave_recursive_call(PyThreadState *ts) {
    _Py_LeaveRecursiveCallTstate(ts);
}

/* The eval breaker handler is hidden in libpython; this mirrors what it does
 * with exported entry points: signals and pending calls, a GIL hand-over when
 * another thread asked for it, asynchronous exceptions. */
static inline void pyj_recompute_eval_breaker(PyInterpreterState *interp) {
    struct _ceval_runtime_state *ceval = &interp->runtime->ceval;
    struct _ceval_state *ceval2 = &interp->ceval;
    int signals = _Py_atomic_load_relaxed(&ceval->signals_pending)
                  && _Py_IsMainThread() && _Py_IsMainInterpreter(interp);
    int calls = _Py_atomic_load_relaxed(&ceval2->pending.calls_to_do) && _Py_IsMainThread();
    _Py_atomic_store_relaxed(&ceval2->eval_breaker,
        _Py_atomic_load_relaxed(&ceval2->gil_drop_request) | signals | calls
        | ceval2->pending.async_exc);
}

static inline int pyj_handle_eval_breaker(PyThreadState *ts) {
    PyInterpreterState *interp = ts->interp;
    struct _ceval_state *ceval2 = &interp->ceval;
    if (_Py_atomic_load_relaxed(&interp->runtime->ceval.signals_pending)
        || _Py_atomic_load_relaxed(&ceval2->pending.calls_to_do)) {
        if (Py_MakePendingCalls() < 0) {
            return -1;
        }
    }
    if (_Py_atomic_load_relaxed(&ceval2->gil_drop_request)) {
        PyThreadState *saved = PyEval_SaveThread();
        PyEval_RestoreThread(saved);
    }
    if (ts->async_exc != NULL) {
        PyObject *exc = ts->async_exc;
        ts->async_exc = NULL;
        ceval2->pending.async_exc = 0;
        pyj_recompute_eval_breaker(interp);
        PyErr_SetNone(exc);
        Py_DECREF(exc);
        return -1;
    }
    return 0;
}

#endif
