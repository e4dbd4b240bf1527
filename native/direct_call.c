/* Python-to-Python calls from compiled code, without vectorcall.
 *
 * A call through PyObject_Vectorcall goes _PyFunction_Vectorcall ->
 * _PyEval_Vector -> _PyEvalFramePushAndInit (argument matching) -> the
 * frame hook -> _PyEvalFrameClearAndPop.  For a call that binds each
 * parameter once without an error -- positional arguments, keywords naming
 * parameters, missing ones from the defaults; *args and **kwargs only
 * where compiled code calls -- this file does the same work directly:
 * push a frame on the thread's data stack, move the arguments in, run it
 * (through the hook, or through the callee's direct entry when compiled
 * code calls), clear and pop it.  The same goes for a class's Python __init__ and for the Python dunder a
 * binary operator would call.  Everything else is left to vectorcall.
 *
 * Clearing mirrors CPython's _PyFrame_Clear, which libpython hides: when a
 * frame object outlives the call (a traceback or sys._getframe() holds it),
 * the frame's data is copied into that object, as frame.c's take_ownership
 * does, so the object stays valid after the data-stack space is reused.
 */
#include "direct_call.h"
#include "generator_new.h"
#include "hook.h"
#include "native_stack.h"
#include "site_cache.h"

/* The steps of a direct call, each called once per call: inlined into
 * their callers (left to itself, GCC keeps push_frame, frame_fits and
 * clear_and_pop as calls of their own). */
#define PYJ_CALL_STEP static inline __attribute__((always_inline))

/* frame.c's take_ownership: the frame object keeps a copy of the frame. */
static void
move_frame_into_object(PyThreadState *ts, PyFrameObject *fo, PyjFrame *frame)
{
    Py_ssize_t size = (char *)&frame->localsplus[frame->stacktop] - (char *)frame;
    PyjFrame *owned = (PyjFrame *)fo->_f_frame_data;
    memcpy(owned, frame, size);
    fo->f_frame = owned;
    owned->owner = FRAME_OWNED_BY_FRAME_OBJECT;
    if (_PyFrame_IsIncomplete(owned)) {
        owned->prev_instr = _PyCode_CODE(owned->f_code) + owned->f_code->_co_firsttraceable;
    }
    PyjFrame *prev = owned->previous;
    while (prev != NULL && _PyFrame_IsIncomplete(prev)) {
        prev = prev->previous;
    }
    if (prev != NULL) {
        /* f_back: the caller's frame object (made now if need be; the
         * caller is the thread's current frame, which PyEval_GetFrame
         * returns) */
        PyFrameObject *back = prev->frame_obj;
        if (back == NULL && prev == ts->cframe->current_frame) {
            back = PyEval_GetFrame();
        }
        if (back != NULL) {
            fo->f_back = (PyFrameObject *)Py_NewRef(back);
        }
        owned->previous = NULL;
    }
    if (!PyObject_GC_IsTracked((PyObject *)fo)) {
        PyObject_GC_Track((PyObject *)fo);
    }
}

/* frame.c's _PyFrame_Clear (hidden in libpython). */
void
pyj_frame_clear(PyThreadState *ts, PyjFrame *frame)
{
    PyFrameObject *fo = frame->frame_obj;
    int moved = 0;
    if (fo != NULL) {
        frame->frame_obj = NULL;
        if (Py_REFCNT(fo) > 1) {
            move_frame_into_object(ts, fo, frame);
            moved = 1;
        }
        Py_DECREF(fo);
    }
    if (!moved) {
        for (int i = 0; i < frame->stacktop; i++) {
            Py_XDECREF(frame->localsplus[i]);
        }
        Py_XDECREF(frame->f_locals);
        Py_DECREF(frame->f_func);
        Py_DECREF(frame->f_code);
    }
}

/* ceval.c's _PyEvalFrameClearAndPop. */
PYJ_CALL_STEP void
clear_and_pop(PyThreadState *ts, PyjFrame *frame)
{
    ts->recursion_remaining--;
    pyj_frame_clear(ts, frame);
    ts->recursion_remaining++;
    ts->datastack_top = (PyObject **)frame;
}

/* ---------------------------------------------- arguments by keyword */

/* The index of the parameter named `name` (by identity, as interned names
 * are) among those from index `first` on, or -1. */
static Py_ssize_t
parameter_named(PyCodeObject *co, PyObject *name, Py_ssize_t first)
{
    Py_ssize_t end = co->co_argcount + co->co_kwonlyargcount;
    for (Py_ssize_t i = first; i < end; i++) {
        if (PyTuple_GET_ITEM(co->co_localsplusnames, i) == name) {
            return i;
        }
    }
    return -1;
}

/* The parameter a keyword names: its index, or -1 (no such parameter, or
 * a positional-only one: vectorcall's to report). */
static Py_ssize_t
keyword_parameter(PyCodeObject *co, PyObject *name)
{
    return parameter_named(co, name, co->co_posonlyargcount);
}

/* The keyword-only parameters with a default in func's __kwdefaults__, one
 * bit each, their defaults (borrowed) stored in values[i - co_argcount] if
 * values is not NULL.  The dict's entries are read in place, each tried
 * first against the parameter in its own position (MAKE_FUNCTION makes
 * the dict in their order): a call of a function with many keyword-only
 * parameters (json.dumps's nine) paid more in looking each up than in the
 * rest of its call.  A default under a name equal to the parameter's but
 * not it counts as none, for vectorcall to find; so does a split dict. */
static uint64_t
keyword_only_defaults(PyFunctionObject *func, PyObject **values)
{
    PyDictObject *kwdefaults = (PyDictObject *)func->func_kwdefaults;
    if (kwdefaults == NULL || kwdefaults->ma_values != NULL || !DK_IS_UNICODE(kwdefaults->ma_keys)) {
        return 0;
    }
    PyCodeObject *co = (PyCodeObject *)func->func_code;
    Py_ssize_t argcount = co->co_argcount, nkwonly = co->co_kwonlyargcount;
    PyDictUnicodeEntry *entries = DK_UNICODE_ENTRIES(kwdefaults->ma_keys);
    uint64_t found = 0;
    for (Py_ssize_t j = 0; j < kwdefaults->ma_keys->dk_nentries; j++) {
        PyObject *name = entries[j].me_key, *value = entries[j].me_value;
        Py_ssize_t i = argcount + j;
        if (value == NULL) {
            continue;
        }
        if (j >= nkwonly || PyTuple_GET_ITEM(co->co_localsplusnames, i) != name) {
            i = parameter_named(co, name, argcount);    /* a keyword-only one */
        }
        if (i >= 0) {
            found |= (uint64_t)1 << i;
            if (values != NULL) {
                values[i - argcount] = value;
            }
        }
    }
    return found;
}

/* The keyword-only defaults a call binds, as arguments_bind read them for
 * fill_bound_locals: __kwdefaults__ is walked once per call. */
typedef struct {
    uint64_t present;               /* one bit per parameter index */
    PyObject *values[64];           /* borrowed; values[i - co_argcount] */
} kwonly_defaults;

/* Does keyword `name` (naming no parameter by identity) belong in
 * **kwargs, as _PyEval_Vector would put it: an exact str (comparing it runs
 * no code) equal to no parameter's name and not given already?  (One equal
 * to a parameter's name binds that parameter: vectorcall's to do.) */
static int
goes_to_varkw(PyCodeObject *co, PyObject *name, PyObject *varkw)
{
    if (!PyUnicode_CheckExact(name)) {
        return 0;
    }
    Py_ssize_t end = co->co_argcount + co->co_kwonlyargcount;
    for (Py_ssize_t i = co->co_posonlyargcount; i < end; i++) {
        if (PyUnicode_Compare(PyTuple_GET_ITEM(co->co_localsplusnames, i), name) == 0) {
            return 0;
        }
    }
    return PyDict_Contains(varkw, name) == 0;
}

/* Does func(args...) bind every parameter exactly once, as _PyEval_Vector
 * would, without an error and without running code?  Positionals beyond
 * the parameters go to *args (func must have it), each keyword names a
 * parameter not already given, or -- with varkw, func's **kwargs dict --
 * goes into varkw (goes_to_varkw), and the missing parameters have
 * defaults.  `defaults`, if not NULL, receives the keyword-only ones. */
static int
arguments_bind(PyFunctionObject *func, PyObject **args, Py_ssize_t nargs, PyObject *kwnames,
               PyObject *varkw, kwonly_defaults *defaults)
{
    PyCodeObject *co = (PyCodeObject *)func->func_code;
    Py_ssize_t argcount = co->co_argcount, nkwonly = co->co_kwonlyargcount;
    Py_ssize_t nkw = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;
    Py_ssize_t npos = nargs - nkw;
    Py_ssize_t nbound = npos < argcount ? npos : argcount;
    Py_ssize_t ndefaults = func->func_defaults != NULL ? PyTuple_GET_SIZE(func->func_defaults) : 0;
    if ((npos > argcount && !(co->co_flags & CO_VARARGS)) || argcount + nkwonly >= 64) {
        return 0;                   /* (one bit per parameter, below) */
    }
    PyDictObject *kwdefaults = (PyDictObject *)func->func_kwdefaults;
    if (kwdefaults != NULL && !DK_IS_UNICODE(kwdefaults->ma_keys)) {
        /* a lookup could run a key's __eq__: vectorcall looks each default
         * up once, in order (this would twice), and a leaf caller must
         * run no code */
        return 0;
    }
    uint64_t bound = ((uint64_t)1 << nbound) - 1;   /* nbound <= argcount < 64 */
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, k);
        Py_ssize_t i = keyword_parameter(co, name);
        if (i < 0) {
            if (varkw == NULL || !goes_to_varkw(co, name, varkw)) {
                return 0;
            }
            if (PyDict_SetItem(varkw, name, args[npos + k]) < 0) {
                PyErr_Clear();      /* vectorcall's to raise */
                return 0;
            }
            continue;
        }
        if (bound & ((uint64_t)1 << i)) {
            return 0;
        }
        bound |= (uint64_t)1 << i;
    }
    for (Py_ssize_t i = nbound; i < argcount - ndefaults; i++) {
        if (!(bound & ((uint64_t)1 << i))) {
            return 0;
        }
    }
    if (nkwonly > 0) {
        uint64_t present = keyword_only_defaults(func, defaults != NULL ? defaults->values : NULL);
        if (defaults != NULL) {
            defaults->present = present;
        }
        bound |= present;
        for (Py_ssize_t i = argcount; i < argcount + nkwonly; i++) {
            if (!(bound & ((uint64_t)1 << i))) {
                return 0;
            }
        }
    }
    return 1;
}

int
pyj_keyword_arguments_fit(PyFunctionObject *func, Py_ssize_t nargs, PyObject *kwnames)
{
    int flags = ((PyCodeObject *)func->func_code)->co_flags;
    return !(flags & (CO_VARARGS | CO_VARKEYWORDS)) && arguments_bind(func, NULL, nargs, kwnames, NULL, NULL);
}

/* A new frame's locals for a call arguments_bind accepted: the argument
 * references moved in (those *args and **kwargs hold released), missing
 * parameters from the defaults (the keyword-only ones from `defaults`, as
 * arguments_bind read them, or read here if NULL), then varargs and varkw
 * (each made for a function with *args, **kwargs; else NULL), the rest
 * NULL. */
static void
fill_bound_locals(PyjFrame *frame, PyFunctionObject *func, PyObject **args, Py_ssize_t nargs,
                  PyObject *kwnames, const kwonly_defaults *defaults, PyObject *varargs,
                  PyObject *varkw)
{
    PyCodeObject *co = (PyCodeObject *)func->func_code;
    Py_ssize_t argcount = co->co_argcount, nparams = argcount + co->co_kwonlyargcount;
    Py_ssize_t nkw = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;
    Py_ssize_t npos = nargs - nkw;
    Py_ssize_t nbound = npos < argcount ? npos : argcount;
    Py_ssize_t first_default = argcount - (func->func_defaults != NULL ? PyTuple_GET_SIZE(func->func_defaults) : 0);
    PyObject **locals = frame->localsplus;
    for (Py_ssize_t i = 0; i < co->co_nlocalsplus; i++) {
        locals[i] = i < nbound ? args[i] : NULL;
    }
    for (Py_ssize_t i = nbound; i < npos; i++) {
        Py_DECREF(args[i]);         /* varargs holds it */
    }
    for (Py_ssize_t k = 0; k < nkw; k++) {
        Py_ssize_t i = keyword_parameter(co, PyTuple_GET_ITEM(kwnames, k));
        if (i >= 0) {
            locals[i] = args[npos + k];
        }
        else {
            Py_DECREF(args[npos + k]);  /* varkw holds it */
        }
    }
    for (Py_ssize_t i = nbound; i < argcount; i++) {
        if (locals[i] == NULL) {
            locals[i] = Py_NewRef(PyTuple_GET_ITEM(func->func_defaults, i - first_default));
        }
    }
    if (nparams > argcount) {
        kwonly_defaults read;       /* (arguments_bind: argcount + kwonly < 64) */
        if (defaults == NULL) {
            read.present = keyword_only_defaults(func, read.values);
            defaults = &read;
        }
        for (Py_ssize_t i = argcount; i < nparams; i++) {
            if (locals[i] == NULL && (defaults->present & ((uint64_t)1 << i))) {
                locals[i] = Py_NewRef(defaults->values[i - argcount]);
            }
        }
    }
    if (co->co_flags & CO_VARARGS) {
        locals[nparams++] = varargs;
    }
    if (co->co_flags & CO_VARKEYWORDS) {
        locals[nparams] = varkw;
    }
}

void
pyj_fill_keyword_locals(PyjFrame *frame, PyFunctionObject *func, PyObject **args,
                        Py_ssize_t nargs, PyObject *kwnames)
{
    fill_bound_locals(frame, func, args, nargs, kwnames, NULL, NULL, NULL);
}

/* Is there room for `size` slots on the current data-stack chunk?  (A new
 * chunk is vectorcall's job.) */
PYJ_CALL_STEP int
datastack_has_room(PyThreadState *ts, Py_ssize_t size)
{
    PyObject **base = ts->datastack_top;
    return base != NULL && base + size < ts->datastack_limit;
}

/* May a call skip the hook now?  At the recursion limit, or with the
 * machine stack nearly full, the hook's path raises RecursionError. */
PYJ_CALL_STEP int
depth_allows_direct(PyThreadState *ts)
{
    return ts->recursion_remaining > 0 && !pyj_native_stack_low();
}

/* Can func(args...) have its frame pushed here: a plain call
 * (pyj_arguments_fit) of a function that is not a generator, room on the
 * current data-stack chunk? */
PYJ_CALL_STEP int
frame_fits(PyThreadState *ts, PyFunctionObject *func, Py_ssize_t nargs, PyObject *kwnames)
{
    PyCodeObject *co = (PyCodeObject *)func->func_code;
    return !pyj_is_generator_code(co) && pyj_arguments_fit(func, nargs, kwnames)
           && datastack_has_room(ts, pyj_frame_size(co));
}

/* A frame for func, room for it checked, pushed on the data stack with
 * its specials set, its locals not yet. */
PYJ_CALL_STEP PyjFrame *
push_frame_specials(PyThreadState *ts, PyFunctionObject *func)
{
    PyCodeObject *co = (PyCodeObject *)func->func_code;
    PyjFrame *frame = (PyjFrame *)ts->datastack_top;
    ts->datastack_top += pyj_frame_size(co);
    Py_INCREF(func);
    _PyFrame_InitializeSpecials(frame, func, pyj_call_locals(func), co->co_nlocalsplus);
    return frame;
}

/* A frame for func(args...), a call frame_fits accepted, pushed on the data
 * stack with the argument references moved in (missing ones from the
 * defaults). */
PYJ_CALL_STEP PyjFrame *
push_frame(PyThreadState *ts, PyFunctionObject *func, PyObject **args, Py_ssize_t nargs,
           PyObject *kwnames)
{
    PyjFrame *frame = push_frame_specials(ts, func);
    pyj_fill_locals(frame, func, args, nargs, kwnames);
    return frame;
}

PyObject *
pyj_call_function_directly(PyThreadState *ts, PyFunctionObject *func, PyObject **args,
                           Py_ssize_t nargs, PyObject *kwnames, int *handled)
{
    *handled = 0;
    if (!pyj_hook_is_evaluator(ts)) {
        return NULL;
    }
    PyCodeObject *co = (PyCodeObject *)func->func_code;
    if (pyj_is_generator_code(co)) {
        if (!pyj_arguments_fit(func, nargs, kwnames) || !pyj_generator_makeable(ts, co)) {
            return NULL;
        }
        *handled = 1;
        return pyj_generator_for_call(func, args, nargs, kwnames);
    }
    if (!frame_fits(ts, func, nargs, kwnames)) {
        return NULL;
    }
    PyjFrame *frame = push_frame(ts, func, args, nargs, kwnames);
    *handled = 1;
    PyObject *res = pyj_hook_eval_frame(ts, frame, 0);
    clear_and_pop(ts, frame);
    return res;
}

/* code's direct entry if running it now can skip the hook */
PYJ_CALL_STEP void *
direct_entry_now(PyThreadState *ts, PyCodeObject *code)
{
    return depth_allows_direct(ts) ? pyj_hook_direct_entry(ts, code) : NULL;
}

/* func's direct entry if a call with nargs arguments (kwnames naming the
 * last ones) can go through it now */
PYJ_CALL_STEP void *
direct_entry_for(PyThreadState *ts, PyFunctionObject *func, Py_ssize_t nargs, PyObject *kwnames)
{
    if (!frame_fits(ts, func, nargs, kwnames)) {
        return NULL;
    }
    return direct_entry_now(ts, (PyCodeObject *)func->func_code);
}

/* Link a frame for a direct call or resumption as the hook links an entry
 * frame, sharing the caller's CFrame. */
PYJ_CALL_STEP void
link_direct(PyThreadState *ts, PyjFrame *frame)
{
    ts->recursion_remaining--;
    frame->is_entry = true;
    frame->previous = ts->cframe->current_frame;
    ts->cframe->current_frame = frame;
}

/* pyj_call_prepare_direct for a function with *args or **kwargs (not a
 * generator): its tuple and dict are made first, as making them may start
 * a collection and so run any code (a finalizer could change func's
 * defaults or code), then the call is checked as frame_fits checks. */
static void *
prepare_variadic_direct(PyThreadState *ts, PyFunctionObject *func, PyObject **args,
                        Py_ssize_t nargs, PyObject *kwnames, PyjFrame **callee)
{
    PyCodeObject *co = (PyCodeObject *)func->func_code;
    Py_ssize_t argcount = co->co_argcount;
    Py_ssize_t npos = nargs - (kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0);
    /* the positionals beyond the parameters, for *args (without it,
     * arguments_bind declines them) */
    Py_ssize_t nextra = npos > argcount && (co->co_flags & CO_VARARGS) ? npos - argcount : 0;
    PyObject *varargs = NULL, *varkw = NULL;
    if (((co->co_flags & CO_VARARGS) && (varargs = PyTuple_New(nextra)) == NULL)
        || ((co->co_flags & CO_VARKEYWORDS) && (varkw = PyDict_New()) == NULL)) {
        PyErr_Clear();              /* vectorcall's to raise */
        Py_XDECREF(varargs);
        return NULL;
    }
    void *entry = NULL;
    kwonly_defaults defaults;       /* borrowed: nothing runs between bind and fill */
    if (func->func_code == (PyObject *)co) {    /* (a finalizer may have replaced it) */
        for (Py_ssize_t i = 0; i < nextra; i++) {
            PyTuple_SET_ITEM(varargs, i, Py_NewRef(args[argcount + i]));
        }
        if (arguments_bind(func, args, nargs, kwnames, varkw, &defaults)
            && datastack_has_room(ts, pyj_frame_size(co))) {
            entry = direct_entry_now(ts, co);
        }
    }
    if (entry == NULL) {
        Py_XDECREF(varargs);
        Py_XDECREF(varkw);
        return NULL;
    }
    *callee = push_frame_specials(ts, func);
    fill_bound_locals(*callee, func, args, nargs, kwnames, &defaults, varargs, varkw);
    link_direct(ts, *callee);
    return entry;
}

void *
pyj_call_prepare_direct(PyThreadState *ts, PyFunctionObject *func, PyObject **args,
                        Py_ssize_t nargs, PyObject *kwnames, PyjFrame **callee)
{
    PyCodeObject *co = (PyCodeObject *)func->func_code;
    if ((co->co_flags & (CO_VARARGS | CO_VARKEYWORDS)) && !pyj_is_generator_code(co)) {
        return prepare_variadic_direct(ts, func, args, nargs, kwnames, callee);
    }
    void *entry = direct_entry_for(ts, func, nargs, kwnames);
    if (entry == NULL) {
        return NULL;
    }
    *callee = push_frame(ts, func, args, nargs, kwnames);
    link_direct(ts, *callee);
    return entry;
}

/* What a class's __init__ and binary operators are when they are Python
 * functions (slot_tp_init, slot_nb_add, ...), learnt from a probe class at
 * import. */
static initproc g_slot_tp_init;
static binaryfunc g_slot_mp_subscript;
static PyObject *g_init_name, *g_getitem_name, *g_no_arguments;

/* BINARY_OP's operators (but **) as the number protocol finds them. */
static const struct {
    size_t slot, inplace_slot;      /* offsets in PyNumberMethods */
    const char *dunder, *symbol;
} binary_operators[] = {
#define BINARY_OPERATOR(oparg, slot, dunder, symbol) \
    [oparg] = {offsetof(PyNumberMethods, nb_##slot), offsetof(PyNumberMethods, nb_inplace_##slot), \
               dunder, symbol}
    BINARY_OPERATOR(NB_ADD, add, "__add__", "+"),
    BINARY_OPERATOR(NB_AND, and, "__and__", "&"),
    BINARY_OPERATOR(NB_FLOOR_DIVIDE, floor_divide, "__floordiv__", "//"),
    BINARY_OPERATOR(NB_LSHIFT, lshift, "__lshift__", "<<"),
    BINARY_OPERATOR(NB_MATRIX_MULTIPLY, matrix_multiply, "__matmul__", "@"),
    BINARY_OPERATOR(NB_MULTIPLY, multiply, "__mul__", "*"),
    BINARY_OPERATOR(NB_REMAINDER, remainder, "__mod__", "%"),
    BINARY_OPERATOR(NB_OR, or, "__or__", "|"),
    BINARY_OPERATOR(NB_RSHIFT, rshift, "__rshift__", ">>"),
    BINARY_OPERATOR(NB_SUBTRACT, subtract, "__sub__", "-"),
    BINARY_OPERATOR(NB_TRUE_DIVIDE, true_divide, "__truediv__", "/"),
    BINARY_OPERATOR(NB_XOR, xor, "__xor__", "^"),
#undef BINARY_OPERATOR
};
#define N_BINARY_OPERATORS ((int)(sizeof(binary_operators) / sizeof(binary_operators[0])))
static binaryfunc g_slot_nb[N_BINARY_OPERATORS];
static PyObject *g_dunder_names[N_BINARY_OPERATORS];

#define NB_SLOT(type, offset) (*(binaryfunc *)((char *)(type)->tp_as_number + (offset)))

int
pyj_direct_call_init(PyTypeObject *probe_class)
{
    g_slot_tp_init = probe_class->tp_init;
    g_slot_mp_subscript = probe_class->tp_as_mapping->mp_subscript;
    g_init_name = PyUnicode_InternFromString("__init__");
    g_getitem_name = PyUnicode_InternFromString("__getitem__");
    g_no_arguments = PyTuple_New(0);
    if (g_init_name == NULL || g_getitem_name == NULL || g_no_arguments == NULL) {
        return -1;
    }
    for (int op = 0; op < N_BINARY_OPERATORS; op++) {
        if (binary_operators[op].dunder == NULL) {
            continue;                   /* ** */
        }
        g_slot_nb[op] = NB_SLOT(probe_class, binary_operators[op].slot);
        g_dunder_names[op] = PyUnicode_InternFromString(binary_operators[op].dunder);
        if (g_dunder_names[op] == NULL) {
            return -1;
        }
    }
    return 0;
}

/* object.__new__(type) (no arguments to check: allocation, inline
 * values) for a call of its __init__ `init`, held by the caller: a
 * collection the allocation triggers may run finalizers that rebind
 * __init__, or even give `init` other code, whose direct entry the caller
 * has not got.  NULL, with *error set, when allocation failed; NULL
 * without, the instance dropped, when init's code changed (the call then
 * goes the general way). */
static PyObject *
instance_for_init(PyTypeObject *type, PyFunctionObject *init, PyObject **error)
{
    PyObject *code = init->func_code;
    PyObject *self = type->tp_new(type, g_no_arguments, NULL);
    if (self == NULL) {
        *error = Py_None;
    }
    else if (init->func_code != code) {
        Py_CLEAR(self);
    }
    return self;
}

void *
pyj_call_prepare_init(PyThreadState *ts, PyObject **base, Py_ssize_t nargs,
                      PyjFrame **callee, PyObject **error)
{
    PyTypeObject *type = (PyTypeObject *)base[1];
    *error = NULL;
    if (g_slot_tp_init == NULL || type->tp_init != g_slot_tp_init
        || type->tp_new != PyBaseObject_Type.tp_new) {
        return NULL;
    }
    PyObject *init = _PyType_Lookup(type, g_init_name);
    if (init == NULL || !Py_IS_TYPE(init, &PyFunction_Type)) {
        return NULL;
    }
    void *entry = direct_entry_for(ts, (PyFunctionObject *)init, nargs + 1, NULL);
    if (entry == NULL) {
        return NULL;
    }
    Py_INCREF(init);
    PyObject *self = instance_for_init(type, (PyFunctionObject *)init, error);
    if (self == NULL) {
        Py_DECREF(init);
        return NULL;
    }
    /* the stack becomes [type, self, args...]: self and the arguments move
     * into __init__'s frame, the stack keeps one more reference to self */
    base[0] = (PyObject *)type;
    base[1] = Py_NewRef(self);
    *callee = push_frame(ts, (PyFunctionObject *)init, base + 1, nargs + 1, NULL);
    Py_DECREF(init);                /* the frame holds it now */
    link_direct(ts, *callee);
    return entry;
}

/* ---------------------------------------------- calls a site recorded */

/* a CALL site's records live in its two inline caches (specialize.pyx) */
_Static_assert(sizeof(pyj_call_site) <= 2 * sizeof(pyj_site_cache), "pyj_call_site too large");

/* pyj_call_record's returns for code whose body is `return <argument>`
 * or `return <constant>`: RESUME, LOAD_FAST or LOAD_CONST, RETURN_VALUE
 * and nothing else (no cells, no free variables), else 0. */
static int16_t
body_returns(PyCodeObject *co, PyObject **constant)
{
    _Py_CODEUNIT *units = _PyCode_CODE(co);
    if (Py_SIZE(co) != 3 || _PyOpcode_Deopt[_Py_OPCODE(units[0])] != RESUME
        || _Py_OPARG(units[0]) != 0 || _PyOpcode_Deopt[_Py_OPCODE(units[2])] != RETURN_VALUE) {
        return 0;
    }
    int op = _PyOpcode_Deopt[_Py_OPCODE(units[1])], oparg = _Py_OPARG(units[1]);
    if (op == LOAD_FAST && oparg < co->co_argcount) {
        return (int16_t)(PYJ_RETURNS_ARGUMENT + oparg);
    }
    if (op == LOAD_CONST) {
        *constant = PyTuple_GET_ITEM(co->co_consts, oparg);
        return PYJ_RETURNS_CONSTANT;
    }
    return 0;
}

void
pyj_call_site_record(pyj_call_site *site, PyjFrame *callee, Py_ssize_t nargs,
                     unsigned int type_version)
{
    PyCodeObject *co = callee->f_code;
    if (nargs > co->co_argcount || co->co_argcount > UINT16_MAX
        || co->co_kwonlyargcount != 0 || (co->co_flags & (CO_VARARGS | CO_VARKEYWORDS))
        || !(co->co_flags & CO_OPTIMIZED) || co->co_nlocalsplus > UINT16_MAX) {
        return;
    }
    pyj_code_state *st = pyj_hook_state_for(co, 0);
    if (st == NULL) {
        return;
    }
    memmove(&site->way[1], &site->way[0], sizeof(site->way[0]) * (PYJ_CALL_WAYS - 1));
    pyj_call_record *r = &site->way[0];
    r->epoch = pyj_code_epoch;
    r->code = co;
    r->state = st;
    r->type_version = type_version;
    r->init = type_version != 0 ? callee->f_func : NULL;
    r->nargs = (uint16_t)nargs;
    r->argcount = (uint16_t)co->co_argcount;
    r->nlocalsplus = (uint16_t)co->co_nlocalsplus;
    r->framesize = (int)pyj_frame_size(co);
    r->returns = type_version == 0 && nargs == co->co_argcount ? body_returns(co, &r->constant) : 0;
}

/* The site's record of a call of code with nargs arguments, or NULL. */
PYJ_CALL_STEP const pyj_call_record *
record_of(const pyj_call_site *site, PyCodeObject *code, Py_ssize_t nargs)
{
    for (int i = 0; i < PYJ_CALL_WAYS; i++) {
        const pyj_call_record *r = &site->way[i];
        if (r->code == code && r->epoch == pyj_code_epoch && r->nargs == nargs) {
            return r;
        }
    }
    return NULL;
}

/* The site's record of a call of the class whose version is
 * type_version, or NULL. */
PYJ_CALL_STEP const pyj_call_record *
class_record_of(const pyj_call_site *site, unsigned int type_version)
{
    for (int i = 0; i < PYJ_CALL_WAYS && type_version != 0; i++) {
        if (site->way[i].type_version == type_version) {
            return &site->way[i];
        }
    }
    return NULL;
}

/* The entry for a call as r recorded of func, if it can be direct now (as
 * direct_entry_for): the frame fits, the defaults cover what is missing. */
PYJ_CALL_STEP void *
recorded_entry(PyThreadState *ts, const pyj_call_record *r, PyFunctionObject *func)
{
    if (!datastack_has_room(ts, r->framesize) || !depth_allows_direct(ts)) {
        return NULL;
    }
    if (r->nargs < r->argcount
        && (func->func_defaults == NULL
            || PyTuple_GET_SIZE(func->func_defaults) < r->argcount - r->nargs)) {
        return NULL;
    }
    return pyj_hook_state_entry(ts, r->state);
}

/* push_frame and link_direct for a call recorded_entry accepted. */
PYJ_CALL_STEP PyjFrame *
push_recorded_frame(PyThreadState *ts, const pyj_call_record *r, PyFunctionObject *func,
                    PyObject **args)
{
    PyjFrame *frame = (PyjFrame *)ts->datastack_top;
    ts->datastack_top += r->framesize;
    Py_INCREF(func);
    _PyFrame_InitializeSpecials(frame, func, NULL, r->nlocalsplus);
    pyj_fill_positional_locals(frame, func, args, r->nargs, r->argcount, r->nlocalsplus);
    link_direct(ts, frame);
    return frame;
}

/* Is freeing obj sure to run no code (no finalizer, weakref callback or
 * code-object release hook)?  Ints and floats free themselves. */
PYJ_CALL_STEP int
frees_without_code(PyObject *obj)
{
    return obj == NULL || Py_REFCNT(obj) > 1 || PyLong_CheckExact(obj) || PyFloat_CheckExact(obj);
}

/* The call of func (a callable on the stack at base, args its
 * arguments) that r records as only returning an argument or a constant,
 * made without a frame, when all a frame would add is unobservable: the
 * checks a compiled call's entry makes (recorded_entry: the function runs
 * compiled now, and counts the call) and its first instruction (the eval
 * breaker); and releasing the callable and the arguments not returned
 * runs no code.  1 when made (the result replacing the call's values), 0
 * with nothing changed. */
PYJ_CALL_STEP int
call_without_frame(PyThreadState *ts, const pyj_call_record *r, PyFunctionObject *func,
                   PyObject **base, PyObject **args)
{
    int returned = r->returns - PYJ_RETURNS_ARGUMENT;   /* the argument's index, or < 0 */
    if (pyj_eval_breaker_set(ts) || Py_REFCNT(func) <= 1) {
        return 0;
    }
    for (int i = 0; i < r->nargs; i++) {
        if (i != returned && !frees_without_code(args[i])) {
            return 0;
        }
    }
    if (recorded_entry(ts, r, func) == NULL) {
        return 0;
    }
    PyObject *res = returned >= 0 ? args[returned] : Py_NewRef(r->constant);
    for (int i = 0; i < r->nargs; i++) {
        if (i != returned) {
            Py_DECREF(args[i]);
        }
    }
    Py_DECREF(func);
    base[0] = res;
    base[1] = NULL;
    return 1;
}

void *
pyj_call_prepare_recorded_function(PyThreadState *ts, const pyj_call_site *site,
                                   PyObject **base, int oparg, PyjFrame **callee)
{
    PyFunctionObject *func = (PyFunctionObject *)(base[0] != NULL ? base[0] : base[1]);
    if (site->way[0].epoch == 0 || !Py_IS_TYPE(func, &PyFunction_Type)) {
        return NULL;
    }
    Py_ssize_t nargs = oparg + (base[0] != NULL);
    PyObject **args = base + 2 - (base[0] != NULL);
    const pyj_call_record *r = record_of(site, (PyCodeObject *)func->func_code, nargs);
    if (r == NULL) {
        return NULL;
    }
    if (r->returns != 0) {
        return call_without_frame(ts, r, func, base, args) ? PYJ_CALL_MADE : NULL;
    }
    void *entry = recorded_entry(ts, r, func);
    if (entry != NULL) {
        *callee = push_recorded_frame(ts, r, func, args);
    }
    return entry;
}

void *
pyj_call_prepare_recorded_class(PyThreadState *ts, const pyj_call_site *site, PyObject **base,
                                int oparg, PyjFrame **callee, PyObject **error, int leaf)
{
    *error = NULL;
    /* a class: its version says its __init__ and how instances are made
     * are as when recorded (pyj_call_prepare_init) */
    PyTypeObject *type = (PyTypeObject *)base[1];
    if (site->way[0].epoch == 0 || base[0] != NULL || !Py_IS_TYPE(type, &PyType_Type)) {
        return NULL;
    }
    const pyj_call_record *r = class_record_of(site, pyj_type_version(type));
    if (r == NULL || r->epoch != pyj_code_epoch || r->nargs != oparg + 1
        || r->init->func_code != (PyObject *)r->code) {
        return NULL;
    }
    if (leaf && (type->tp_alloc != PyType_GenericAlloc || (type->tp_flags & Py_TPFLAGS_IS_ABSTRACT)
                 || pyj_gc_would_collect(ts))) {
        return NULL;
    }
    PyFunctionObject *init = r->init;
    void *entry = recorded_entry(ts, r, init);
    if (entry == NULL) {
        return NULL;
    }
    Py_INCREF(init);
    PyObject *self = instance_for_init(type, init, error);
    if (self == NULL) {
        Py_DECREF(init);
        if (leaf && *error != NULL) {
            PyErr_Clear();          /* out of memory: the full path tries again, and raises */
            *error = NULL;
        }
        return NULL;
    }
    base[0] = (PyObject *)type;
    base[1] = Py_NewRef(self);
    *callee = push_recorded_frame(ts, r, init, base + 1);
    Py_DECREF(init);
    return entry;
}

void *
pyj_call_prepare_recorded(PyThreadState *ts, const pyj_call_site *site, PyObject **base,
                          int oparg, PyjFrame **callee, PyObject **error)
{
    *error = NULL;
    PyObject *callable = base[0] != NULL ? base[0] : base[1];
    if (Py_IS_TYPE(callable, &PyFunction_Type)) {
        return pyj_call_prepare_recorded_function(ts, site, base, oparg, callee);
    }
    return pyj_call_prepare_recorded_class(ts, site, base, oparg, callee, error, 0);
}

/* BINARY_OP's oparg as an index of binary_operators, *inplace set for
 * the in-place form. */
static int
binary_operator_of(int oparg, int *inplace)
{
    *inplace = oparg >= NB_INPLACE_ADD;
    return *inplace ? oparg - NB_INPLACE_ADD : oparg;
}

/* The slot of rhs's class the number protocol tries when lhs's returned
 * NotImplemented, or NULL. */
static binaryfunc
reflected_slot(PyObject *lhs, PyObject *rhs, int op)
{
    PyTypeObject *type = Py_TYPE(rhs);
    return type != Py_TYPE(lhs) && type->tp_as_number != NULL
        ? NB_SLOT(type, binary_operators[op].slot) : NULL;
}

static int
has_sequence_slots(PyTypeObject *type)
{
    PySequenceMethods *seq = type->tp_as_sequence;
    return seq != NULL && (seq->sq_concat != NULL || seq->sq_repeat != NULL
                           || seq->sq_inplace_concat != NULL || seq->sq_inplace_repeat != NULL);
}

/* The Python function the number protocol calls first for lhs OP rhs,
 * when all it would do is call it with them and, given NotImplemented,
 * try rhs's C slot (if another class) before raising its TypeError; NULL
 * otherwise.  So: lhs's class is a heap type whose slot for OP is the
 * Python-level one (for an in-place OP, with no in-place method, so the
 * binary one serves); rhs is of that class, or of one that is not a
 * subclass of it (those go first) and has no Python-level slot for OP
 * (slot_nb_* would call rhs's reflected method itself); neither has
 * sequence slots (the protocol's last resort for + and *). */
static PyObject *
binary_dunder(PyObject *lhs, PyObject *rhs, int oparg)
{
    PyTypeObject *type = Py_TYPE(lhs);
    int inplace, op = binary_operator_of(oparg, &inplace);
    if (op >= N_BINARY_OPERATORS || g_slot_nb[op] == NULL
        || !(type->tp_flags & Py_TPFLAGS_HEAPTYPE) || type->tp_as_number == NULL
        || NB_SLOT(type, binary_operators[op].slot) != g_slot_nb[op]
        || (inplace && NB_SLOT(type, binary_operators[op].inplace_slot) != NULL)
        || has_sequence_slots(type)) {
        return NULL;
    }
    if (!Py_IS_TYPE(rhs, type)
        && (reflected_slot(lhs, rhs, op) == g_slot_nb[op] || has_sequence_slots(Py_TYPE(rhs))
            || PyType_IsSubtype(Py_TYPE(rhs), type))) {
        return NULL;
    }
    PyObject *dunder = _PyType_Lookup(type, g_dunder_names[op]);
    return dunder != NULL && Py_IS_TYPE(dunder, &PyFunction_Type) ? dunder : NULL;
}

/* dunder(a, b), a Python function called as a slot calls it, prepared
 * as a direct call: its entry, or NULL (nothing done). */
static void *
prepare_dunder_call(PyThreadState *ts, PyObject *dunder, PyObject *a, PyObject *b,
                    PyjFrame **callee)
{
    if (dunder == NULL) {
        return NULL;
    }
    PyFunctionObject *func = (PyFunctionObject *)dunder;
    void *entry = direct_entry_for(ts, func, 2, NULL);
    if (entry == NULL) {
        return NULL;
    }
    PyObject *args[2] = {Py_NewRef(a), Py_NewRef(b)};
    *callee = push_frame(ts, func, args, 2, NULL);
    link_direct(ts, *callee);
    return entry;
}

void *
pyj_binary_prepare_direct(PyThreadState *ts, PyObject *lhs, PyObject *rhs, int oparg,
                          PyjFrame **callee)
{
    return prepare_dunder_call(ts, binary_dunder(lhs, rhs, oparg), lhs, rhs, callee);
}

/* The Python function PyObject_GetItem(container, ...) calls, when it
 * calls one: the class's mapping slot is slot_mp_subscript, which calls
 * the __getitem__ it finds on the class with (container, key); NULL
 * otherwise. */
static PyObject *
getitem_dunder(PyObject *container)
{
    PyTypeObject *type = Py_TYPE(container);
    if (!(type->tp_flags & Py_TPFLAGS_HEAPTYPE) || type->tp_as_mapping == NULL
        || type->tp_as_mapping->mp_subscript != g_slot_mp_subscript) {
        return NULL;
    }
    PyObject *dunder = _PyType_Lookup(type, g_getitem_name);
    return dunder != NULL && Py_IS_TYPE(dunder, &PyFunction_Type) ? dunder : NULL;
}

void *
pyj_subscr_prepare_direct(PyThreadState *ts, PyObject *container, PyObject *sub,
                          PyjFrame **callee)
{
    return prepare_dunder_call(ts, getitem_dunder(container), container, sub, callee);
}

PyObject *
pyj_binary_finish_direct(PyThreadState *ts, PyjFrame *callee, PyObject *lhs, PyObject *rhs,
                         int oparg, PyObject *res)
{
    pyj_call_finish_direct(ts, callee);
    if (res != Py_NotImplemented) {
        return res;
    }
    Py_DECREF(res);
    int inplace, op = binary_operator_of(oparg, &inplace);
    binaryfunc reflected = reflected_slot(lhs, rhs, op);
    if (reflected != NULL) {
        res = reflected(lhs, rhs);
        if (res != Py_NotImplemented) {
            return res;
        }
        Py_DECREF(res);
    }
    PyErr_Format(PyExc_TypeError, "unsupported operand type(s) for %s%s: '%.100s' and '%.100s'",
                 binary_operators[op].symbol, inplace ? "=" : "",
                 Py_TYPE(lhs)->tp_name, Py_TYPE(rhs)->tp_name);
    return NULL;
}

PyObject *
pyj_call_finish_init(PyObject *self, PyObject *res)
{
    if (res == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    if (res != Py_None) {
        PyErr_Format(PyExc_TypeError, "__init__() should return None, not '%.200s'",
                     Py_TYPE(res)->tp_name);
        Py_DECREF(res);
        Py_DECREF(self);
        return NULL;
    }
    Py_DECREF(res);
    return self;
}

PYJ_CALL_STEP void
unlink_direct(PyThreadState *ts, PyjFrame *frame)
{
    ts->recursion_remaining++;
    ts->cframe->current_frame = frame->previous;
}

void
pyj_call_finish_direct(PyThreadState *ts, PyjFrame *callee)
{
    unlink_direct(ts, callee);
    clear_and_pop(ts, callee);
}

int
pyj_call_finish_direct_leaf(PyThreadState *ts, PyjFrame *callee, Py_ssize_t func_refs_kept)
{
    /* pyj_call_finish_direct, when nothing it releases can run code.  The
     * locals are released in one pass, each slot emptied as it goes: one
     * whose release could run code stops it, and the full path releases
     * the rest (nothing that ran before it can be seen). */
    if (callee->frame_obj != NULL || callee->f_locals != NULL
        || Py_REFCNT(callee->f_func) <= func_refs_kept + 1 || Py_REFCNT(callee->f_code) <= 1) {
        return 0;
    }
    PyObject **locals = callee->localsplus;
    for (int i = 0; i < callee->stacktop; i++) {
        PyObject *local = locals[i];
        if (local != NULL) {
            if (!frees_without_code(local)) {
                return 0;
            }
            locals[i] = NULL;
            Py_DECREF(local);
        }
    }
    callee->stacktop = 0;           /* nothing left for the frame's clearing */
    pyj_call_finish_direct(ts, callee);
    return 1;
}

/* ------------------------------------------------- generator resumption
 * genobject.c's gen_send_ex2 around a compiled generator's direct entry. */

static PyGenObject *
generator_of(PyjFrame *frame)
{
    return (PyGenObject *)((char *)frame - offsetof(PyGenObject, gi_iframe));
}

void *
pyj_gen_prepare_direct(PyThreadState *ts, PyObject *receiver, PyObject *value, PyjFrame **callee)
{
    if (!PyGen_CheckExact(receiver) && !PyCoro_CheckExact(receiver)) {
        return NULL;
    }
    PyGenObject *gen = (PyGenObject *)receiver;
    PyjFrame *frame = (PyjFrame *)gen->gi_iframe;
    /* anything unusual (not started with a value, running, finished) is
     * gen_send_ex2's to report */
    if (gen->gi_frame_state != FRAME_SUSPENDED
        && !(gen->gi_frame_state == FRAME_CREATED && value == Py_None)) {
        return NULL;
    }
    void *entry = direct_entry_now(ts, frame->f_code);
    if (entry == NULL) {
        return NULL;
    }
    frame->localsplus[frame->stacktop++] = value;
    gen->gi_exc_state.previous_item = ts->exc_info;
    ts->exc_info = &gen->gi_exc_state;
    gen->gi_frame_state = FRAME_EXECUTING;
    link_direct(ts, frame);
    *callee = frame;
    return entry;
}

/* The generator's frame leaves the thread's stack of frames. */
static void
detach_generator_frame(PyThreadState *ts, PyGenObject *gen, PyjFrame *frame)
{
    unlink_direct(ts, frame);
    ts->exc_info = gen->gi_exc_state.previous_item;
    gen->gi_exc_state.previous_item = NULL;
    /* no reference to the caller's frame once suspended or finished */
    frame->previous = NULL;
}

int
pyj_gen_finish_yield(PyThreadState *ts, PyjFrame *frame, PyObject *result)
{
    PyGenObject *gen = generator_of(frame);
    if (result == NULL || gen->gi_frame_state != FRAME_SUSPENDED) {
        return 0;
    }
    detach_generator_frame(ts, gen, frame);
    return 1;
}

PySendResult
pyj_gen_finish_direct(PyThreadState *ts, PyjFrame *frame, PyObject *result, PyObject **presult)
{
    *presult = result;
    if (pyj_gen_finish_yield(ts, frame, result)) {
        return PYGEN_NEXT;
    }
    PyGenObject *gen = generator_of(frame);
    if (gen->gi_frame_state == FRAME_EXECUTING) {
        gen->gi_frame_state = FRAME_COMPLETED;
    }
    detach_generator_frame(ts, gen, frame);
    if (result == NULL && PyErr_ExceptionMatches(PyExc_StopIteration)) {
        _PyErr_FormatFromCause(PyExc_RuntimeError, "%s raised StopIteration",
                               PyCoro_CheckExact(gen) ? "coroutine" : "generator");
    }
    /* finished: the frame is released, as the generator cannot run again */
    Py_CLEAR(gen->gi_exc_state.exc_value);
    gen->gi_frame_state = FRAME_CLEARED;
    pyj_frame_clear(ts, frame);
    return result != NULL ? PYGEN_RETURN : PYGEN_ERROR;
}
