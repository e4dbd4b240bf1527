/* Calls from compiled code to plain Python functions that skip the
 * vectorcall machinery (direct_call.c). */
#ifndef PYJION_DIRECT_CALL_H
#define PYJION_DIRECT_CALL_H
#include "cpython311.h"
#include "hook.h"

/* Call func with args[0..nargs) (the last of them named by kwnames, or
 * NULL) when it is a plain call (pyj_arguments_fit): the argument
 * references move into the callee's frame (a generator function's call
 * makes its generator, generator_new.h).  Sets *handled to 0, and does
 * nothing else, for any call it leaves to vectorcall. */
PyObject *pyj_call_function_directly(PyThreadState *ts, PyFunctionObject *func, PyObject **args,
                                     Py_ssize_t nargs, PyObject *kwnames, int *handled);

/* The same call made by compiled code itself, through the callee's direct
 * entry point (hook.h): when func is compiled and the call is a plain
 * one -- or func, not a generator, has *args or **kwargs, which get a new
 * tuple and dict, the call binding without an error -- its frame is
 * pushed, filled and linked, the recursion depth counted, *callee set,
 * and the direct entry returned; the caller runs entry(ts, *callee, 0)
 * and then calls pyj_call_finish_direct.  NULL, with nothing changed (but
 * a collection, which making the tuple and dict may start), otherwise.
 * Not for leaf callers. */
void *pyj_call_prepare_direct(PyThreadState *ts, PyFunctionObject *func, PyObject **args,
                              Py_ssize_t nargs, PyObject *kwnames, PyjFrame **callee);
/* What a CALL site of compiled code remembers of the last calls it made
 * through a direct entry, so that the next call of the same code skips
 * the checks and lookups that found it (in the site's inline cache,
 * site_cache.h).  Recorded only for calls of positional arguments, the
 * missing ones from the defaults (no keywords, *args or **kwargs): then
 * the frame's shape follows from the code alone.  `code` is borrowed: a
 * code object freed may have its address reused, so a record holds only
 * while no code state has been freed since (pyj_code_epoch, hook.h).
 * Empty while epoch is 0. */
typedef struct {
    uint64_t epoch;
    PyCodeObject *code;             /* the callee's code */
    pyj_code_state *state;          /* its state: the direct entry */
    /* a class called (its __init__ run): the class's version tag and its
     * __init__, which the class holds while the version is unchanged;
     * type_version 0 for a call of a function */
    unsigned int type_version;
    uint16_t nargs;                 /* arguments given, self included */
    uint16_t argcount;              /* the code's positional parameters */
    union {
        PyFunctionObject *init;
        PyObject *constant;         /* (borrowed from the code) PYJ_RETURNS_CONSTANT */
    };
    int framesize;                  /* in PyObject * slots */
    uint16_t nlocalsplus;
    /* what a function's whole body does, when it is only to return one of
     * its arguments (PYJ_RETURNS_ARGUMENT + its index) or a constant: then
     * a call needs no frame (pyj_call_prepare_recorded_function); else 0 */
    int16_t returns;
} pyj_call_record;

#define PYJ_RETURNS_CONSTANT (-1)
#define PYJ_RETURNS_ARGUMENT 1

/* Four records, the most recent first: a site calling several callees
 * in turn (a dispatch table's functions, a method of several subclasses)
 * keeps them all. */
#define PYJ_CALL_WAYS 4
typedef struct {
    pyj_call_record way[PYJ_CALL_WAYS];
} pyj_call_site;

/* pyj_call_prepare_direct or pyj_call_prepare_init, for the call with the
 * stack [NULL or callable, callable or self, args...] at base (oparg
 * arguments besides), made through what the site recorded: NULL, with
 * nothing changed, unless the callable is a function or class the site
 * recorded, called the same way, and the call can be direct now (or was
 * made without a frame: PYJ_CALL_MADE, as below); *error as for
 * pyj_call_prepare_init. */
void *pyj_call_prepare_recorded(PyThreadState *ts, const pyj_call_site *site, PyObject **base,
                                int oparg, PyjFrame **callee, PyObject **error);
/* The part of pyj_call_prepare_recorded for a function (base[0] or, with
 * base[0] NULL, base[1]), which runs no code: a leaf (ops.h).  Where the
 * function only returns an argument or a constant (pyj_call_record's
 * returns) and releasing the call's other values runs no code, it makes
 * the call itself: the result then takes the call's place on the stack
 * and PYJ_CALL_MADE is returned. */
void *pyj_call_prepare_recorded_function(PyThreadState *ts, const pyj_call_site *site,
                                         PyObject **base, int oparg, PyjFrame **callee);
#define PYJ_CALL_MADE ((void *)1)
/* ... and for a class (base[1], base[0] NULL) the site recorded, whose
 * __init__ is run (pyj_call_prepare_init).  As a leaf (leaf 1), only where
 * making the instance runs no code -- the class allocates as
 * PyType_GenericAlloc, is not abstract, one more tracked object does not
 * start a collection (which runs finalizers) -- and never with *error set. */
void *pyj_call_prepare_recorded_class(PyThreadState *ts, const pyj_call_site *site,
                                      PyObject **base, int oparg, PyjFrame **callee,
                                      PyObject **error, int leaf);
/* After pyj_call_prepare_direct (type_version 0) or pyj_call_prepare_init
 * (the class's version) made *callee, a call of nargs arguments: the site
 * records it when it is a call of positional arguments. */
void pyj_call_site_record(pyj_call_site *site, PyjFrame *callee, Py_ssize_t nargs,
                          unsigned int type_version);

/* The same for calling a class: when base[1] is a class whose instances
 * come from object.__new__ and whose __init__ is a compiled function, the
 * instance is made, the stack rearranged to [class, instance, args...], and
 * __init__'s frame prepared as above, its direct entry returned.  NULL
 * otherwise: with *error set when making the instance failed (an exception
 * is set, nothing moved), else with nothing changed. */
void *pyj_call_prepare_init(PyThreadState *ts, PyObject **base, Py_ssize_t nargs,
                            PyjFrame **callee, PyObject **error);
/* The call's result once __init__ returned res: self, or NULL with an
 * exception; consumes both. */
PyObject *pyj_call_finish_init(PyObject *self, PyObject *res);
/* Learns slot_tp_init, slot_mp_subscript and the binary operators'
 * slot_nb_* functions from a class with a Python __init__, __getitem__ and
 * binary dunders; -1 on failure. */
int pyj_direct_call_init(PyTypeObject *probe_class);
/* BINARY_OP (oparg) on lhs and rhs, when the number protocol would call
 * a compiled Python dunder of lhs's class with them first (and, given
 * NotImplemented, at most rhs's C slot; see direct_call.c): its frame
 * prepared as pyj_call_prepare_direct does, with new references to both,
 * and its direct entry returned; NULL otherwise. */
void *pyj_binary_prepare_direct(PyThreadState *ts, PyObject *lhs, PyObject *rhs, int oparg,
                                PyjFrame **callee);
/* BINARY_SUBSCR of container by sub, when PyObject_GetItem would call the
 * Python __getitem__ of container's class (slot_mp_subscript's call): its
 * frame prepared and direct entry returned as pyj_binary_prepare_direct
 * does; NULL otherwise.  Once it returned, pyj_call_finish_direct. */
void *pyj_subscr_prepare_direct(PyThreadState *ts, PyObject *container, PyObject *sub,
                                PyjFrame **callee);
/* The operation's result once the dunder returned res (consumed): res,
 * or after NotImplemented what the protocol makes of it (rhs's C slot, a
 * TypeError). */
PyObject *pyj_binary_finish_direct(PyThreadState *ts, PyjFrame *callee, PyObject *lhs,
                                   PyObject *rhs, int oparg, PyObject *res);
/* Unlink, clear and pop a frame made by pyj_call_prepare_direct. */
void pyj_call_finish_direct(PyThreadState *ts, PyjFrame *callee);
/* The same as a leaf: 1 when done, 0 when what it would release could run
 * code: a frame object, a local freed that is not an int or float, the
 * function's last references but func_refs_kept others (the caller's,
 * released after), its code's last.  At 0 the frame is still linked and
 * some of its locals may be released already (their slots emptied): the
 * rest is pyj_call_finish_direct's. */
int pyj_call_finish_direct_leaf(PyThreadState *ts, PyjFrame *callee, Py_ssize_t func_refs_kept);

/* Resuming a generator or coroutine whose code is compiled, from compiled
 * code, as gen_send_ex2 does but through the direct entry: `value` (a
 * reference the caller gives up) is pushed on the generator's stack and its
 * frame linked; returns the entry, the caller runs entry(ts, *callee, 0)
 * and passes the result to pyj_gen_finish_direct.  NULL, with nothing
 * changed (value still the caller's), when the resumption is not simple. */
void *pyj_gen_prepare_direct(PyThreadState *ts, PyObject *receiver, PyObject *value,
                             PyjFrame **callee);
/* After the generator's frame ran: PYGEN_NEXT (it yielded *presult),
 * PYGEN_RETURN (it returned *presult; its frame is cleared) or PYGEN_ERROR. */
PySendResult pyj_gen_finish_direct(PyThreadState *ts, PyjFrame *frame, PyObject *result,
                                   PyObject **presult);
/* The case of pyj_gen_finish_direct that runs no code, for leaf callers
 * (ops.h): the generator yielded `result`; returns 1 having finished, else
 * 0 having changed nothing. */
int pyj_gen_finish_yield(PyThreadState *ts, PyjFrame *frame, PyObject *result);
/* A call's arguments are nargs values, the last len(kwnames) of them named
 * by kwnames (NULL: none).  The functions below take the common case (all
 * positional, no keyword-only parameters) inline -- always: a call of its
 * own costs a direct call a tenth of its time -- and leave the others to
 * their out-of-line fellows in direct_call.c. */

/* Does func(args...) bind every parameter exactly once, as _PyEval_Vector
 * would, without an error: func has no *args or **kwargs, each keyword
 * names (by identity: names are interned) a parameter not already given,
 * the missing ones have defaults?  Anything else (an error to raise, a
 * keyword equal to a name but not it) answers 0, for vectorcall. */
int pyj_keyword_arguments_fit(PyFunctionObject *func, Py_ssize_t nargs, PyObject *kwnames);

static inline __attribute__((always_inline)) int
pyj_arguments_fit(PyFunctionObject *func, Py_ssize_t nargs, PyObject *kwnames)
{
    PyCodeObject *co = (PyCodeObject *)func->func_code;
    if (kwnames != NULL || co->co_kwonlyargcount != 0) {
        return pyj_keyword_arguments_fit(func, nargs, kwnames);
    }
    Py_ssize_t argcount = co->co_argcount;
    if (nargs > argcount || (co->co_flags & (CO_VARARGS | CO_VARKEYWORDS))) {
        return 0;
    }
    Py_ssize_t ndefaults = func->func_defaults != NULL ? PyTuple_GET_SIZE(func->func_defaults) : 0;
    return nargs >= argcount - ndefaults;
}

/* A new frame's locals for func(args...), a call pyj_arguments_fit
 * accepted: the argument references moved in, missing ones from the
 * defaults, the rest NULL. */
void pyj_fill_keyword_locals(PyjFrame *frame, PyFunctionObject *func, PyObject **args,
                             Py_ssize_t nargs, PyObject *kwnames);

/* The same for nargs positional arguments of argcount parameters, the
 * defaults (func's) covering the missing ones, nlocalsplus locals in all. */
static inline __attribute__((always_inline)) void
pyj_fill_positional_locals(PyjFrame *frame, PyFunctionObject *func, PyObject **args,
                           Py_ssize_t nargs, Py_ssize_t argcount, Py_ssize_t nlocalsplus)
{
    PyObject **locals = frame->localsplus;
    Py_ssize_t i = 0;
    for (; i < nargs; i++) {
        locals[i] = args[i];
    }
    if (i < argcount) {
        PyObject *defaults = func->func_defaults;
        Py_ssize_t first_default = argcount - PyTuple_GET_SIZE(defaults);
        for (; i < argcount; i++) {
            locals[i] = Py_NewRef(PyTuple_GET_ITEM(defaults, i - first_default));
        }
    }
    for (; i < nlocalsplus; i++) {
        locals[i] = NULL;
    }
}

static inline __attribute__((always_inline)) void
pyj_fill_locals(PyjFrame *frame, PyFunctionObject *func, PyObject **args, Py_ssize_t nargs,
                PyObject *kwnames)
{
    PyCodeObject *co = (PyCodeObject *)func->func_code;
    if (kwnames != NULL || co->co_kwonlyargcount != 0) {
        pyj_fill_keyword_locals(frame, func, args, nargs, kwnames);
        return;
    }
    pyj_fill_positional_locals(frame, func, args, nargs, co->co_argcount, co->co_nlocalsplus);
}

/* The data-stack slots a frame of code takes. */
static inline Py_ssize_t
pyj_frame_size(PyCodeObject *co)
{
    return co->co_nlocalsplus + co->co_stacksize + FRAME_SPECIALS_SIZE;
}

/* The f_locals of a new frame for func: none for a function's own code;
 * the globals for code that names its variables (a module or class body
 * made into a function, as _PyFunction_Vectorcall passes them). */
static inline PyObject *
pyj_call_locals(PyFunctionObject *func)
{
    return (((PyCodeObject *)func->func_code)->co_flags & CO_OPTIMIZED) ? NULL : func->func_globals;
}

/* frame.c's _PyFrame_Clear. */
void pyj_frame_clear(PyThreadState *ts, PyjFrame *frame);

#endif
