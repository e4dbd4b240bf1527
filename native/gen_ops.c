/* Helpers for the opcodes of generators, coroutines and async generators.
 *
 * Suspension and resumption themselves are inline IL (translate.pyx): a
 * compiled generator yields by storing its stack depth in the frame and
 * returning, and resumes by dispatching on frame->prev_instr, so the frame is
 * always in the state the interpreter would leave it in and either of them
 * can run the next step.  What is here mirrors ceval.c's opcode bodies and
 * the pieces of genobject.c that libpython does not export.
 */
#include "gen_ops.h"
#include "direct_call.h"
#include "hook.h"
#include "ops.h"

#define POP() (*--sp)
#define TOP() (sp[-1])

/* _PyGen_yf: the awaitable a suspended generator is delegating to, if any
 * (borrowed).  It sits on top of the stack when the next instruction is a
 * RESUME of a yield from / await. */
static PyObject *
delegate_of(PyGenObject *gen)
{
    if (gen->gi_frame_state >= FRAME_CLEARED || gen->gi_frame_state == FRAME_CREATED) {
        return NULL;
    }
    PyjFrame *frame = (PyjFrame *)gen->gi_iframe;
    _Py_CODEUNIT next = frame->prev_instr[1];
    if (_PyOpcode_Deopt[_Py_OPCODE(next)] != RESUME || _Py_OPARG(next) < 2) {
        return NULL;
    }
    return frame->localsplus[frame->stacktop - 1];
}

/* The sequence a list or tuple iterator holds (NULL once exhausted). */
static int
sequence_iterator(PyObject *o, PyObject **seq)
{
    if (Py_IS_TYPE(o, &PyListIter_Type)) {
        *seq = (PyObject *)((pyj_listiter *)o)->it_seq;
        return 1;
    }
    if (Py_IS_TYPE(o, &PyTupleIter_Type)) {
        *seq = (PyObject *)((pyj_tupleiter *)o)->it_seq;
        return 1;
    }
    return 0;
}

/* How many of the frame's slots (locals and stack) hold obj. */
static int
slots_holding(PyjFrame *frame, PyObject *obj)
{
    int n = 0;
    for (int i = 0; i < frame->stacktop; i++) {
        n += frame->localsplus[i] == obj;
    }
    return n;
}

/* Is slot i the first slot holding its object? */
static int
first_slot(PyjFrame *frame, int i)
{
    for (int j = 0; j < i; j++) {
        if (frame->localsplus[j] == frame->localsplus[i]) {
            return 0;
        }
    }
    return 1;
}

/* Does obj outlive the release of every slot: more references than the
 * slots hold, directly or through the sequence iterators they free? */
static int
outlives_slots(PyjFrame *frame, PyObject *obj)
{
    Py_ssize_t dropped = slots_holding(frame, obj);
    for (int i = 0; i < frame->stacktop; i++) {
        PyObject *o = frame->localsplus[i], *seq;
        if (o != NULL && first_slot(frame, i) && sequence_iterator(o, &seq) && seq == obj
            && Py_REFCNT(o) == slots_holding(frame, o)) {
            dropped++;
        }
    }
    return Py_REFCNT(obj) > dropped;
}

/* Does releasing every slot of the frame run no code?  Each object
 * outlives them all, or frees nothing but memory: an int, a float, a
 * range iterator, or a list or tuple iterator whose sequence outlives the
 * slots. */
static int
slots_free_without_code(PyjFrame *frame)
{
    enum { MOST_SLOTS = 16 };       /* (a generator expression has 2 or 3) */
    if (frame->stacktop > MOST_SLOTS || !pyj_iterators_match()) {
        return 0;
    }
    for (int i = 0; i < frame->stacktop; i++) {
        PyObject *o = frame->localsplus[i], *seq;
        if (o == NULL || !first_slot(frame, i) || PyLong_CheckExact(o) || PyFloat_CheckExact(o)
            || Py_IS_TYPE(o, &PyRangeIter_Type) || outlives_slots(frame, o)) {
            continue;
        }
        if (!sequence_iterator(o, &seq) || (seq != NULL && !outlives_slots(frame, seq))) {
            return 0;
        }
    }
    return 1;
}

int
pyj_gen_close_quietly(PyThreadState *ts, PyObject *obj)
{
    if (!PyGen_CheckExact(obj) || Py_REFCNT(obj) != 1 || ts->cframe->use_tracing) {
        return 0;
    }
    PyGenObject *gen = (PyGenObject *)obj;
    PyjFrame *frame = (PyjFrame *)gen->gi_iframe;
    if (gen->gi_frame_state != FRAME_SUSPENDED || frame->frame_obj != NULL
        || frame->f_locals != NULL || PyBytes_GET_SIZE(frame->f_code->co_exceptiontable) != 0
        || delegate_of(gen) != NULL || !slots_free_without_code(frame)) {
        return 0;
    }
    /* the unwinding: the stack from the top, then the frame (gen_send_ex2) */
    PyObject **stack = _PyFrame_Stackbase(frame);
    while (frame->stacktop > stack - frame->localsplus) {
        Py_XDECREF(frame->localsplus[--frame->stacktop]);
    }
    Py_CLEAR(gen->gi_exc_state.exc_value);
    gen->gi_frame_state = FRAME_CLEARED;
    pyj_frame_clear(ts, frame);
    pyj_quiet_closes++;
    return 1;
}

static int
is_coroutine(PyObject *o)
{
    if (PyCoro_CheckExact(o)) {
        return 1;
    }
    return PyGen_CheckExact(o)
        && (((PyCodeObject *)((PyGenObject *)o)->gi_code)->co_flags & CO_ITERABLE_COROUTINE);
}

/* _PyCoro_GetAwaitableIter */
static PyObject *
awaitable_iter(PyObject *o)
{
    if (is_coroutine(o)) {
        return Py_NewRef(o);
    }
    PyTypeObject *type = Py_TYPE(o);
    unaryfunc getter = type->tp_as_async != NULL ? type->tp_as_async->am_await : NULL;
    if (getter == NULL) {
        PyErr_Format(PyExc_TypeError, "object %.100s can't be used in 'await' expression",
                     type->tp_name);
        return NULL;
    }
    PyObject *res = getter(o);
    if (res == NULL) {
        return NULL;
    }
    if (is_coroutine(res)) {
        PyErr_SetString(PyExc_TypeError, "__await__() returned a coroutine");
        Py_DECREF(res);
        return NULL;
    }
    if (!PyIter_Check(res)) {
        PyErr_Format(PyExc_TypeError, "__await__() returned non-iterator of type '%.100s'",
                     Py_TYPE(res)->tp_name);
        Py_DECREF(res);
        return NULL;
    }
    return res;
}

/* SEND's outcome on the stack [receiver, (sent value, consumed)]:
 * [receiver, yielded] or [returned] and the jump. */
static int
send_outcome(PyObject **sp, PySendResult status, PyObject *retval)
{
    if (status == PYGEN_ERROR) {
        return PYJ_DIRECT_ERROR;
    }
    if (status == PYGEN_RETURN) {
        Py_DECREF(sp[-2]);
        sp[-2] = retval;
        return PYJ_DIRECT_BRANCH;
    }
    sp[-1] = retval;
    return PYJ_DIRECT_NEXT;
}

/* SEND, in two parts (ops.h): a compiled generator or coroutine receiver is
 * resumed by compiled code itself, pyj_send_return following. */
void *
pyj_op_send(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux, PyjFrame **callee)
{
    PyObject *v = sp[-1];
    PyObject *receiver = sp[-2];
    void *entry = pyj_op_send_leaf(f, sp, oparg, aux, callee);
    if (entry != NULL) {
        return entry;               /* v moved onto the generator's stack */
    }
    PyObject *retval;
    PySendResult status = PyIter_Send(receiver, v, &retval);
    Py_DECREF(v);
    return (void *)(intptr_t)send_outcome(sp, status, retval);
}

int
pyj_send_return(PyThreadState *ts, PyObject **sp, int oparg, PyjFrame *callee, PyObject *res)
{
    PyObject *retval;
    PySendResult status = pyj_gen_finish_direct(ts, callee, res, &retval);
    return send_outcome(sp, status, retval);
}

/* SEND's leaf halves (ops.h): a compiled generator or coroutine resumed
 * with the value (moved onto its stack), and finished after a yield. */
void *
pyj_op_send_leaf(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux, PyjFrame **callee)
{
    return pyj_gen_prepare_direct(_PyThreadState_GET(), sp[-2], sp[-1], callee);
}

int
pyj_send_return_leaf(PyThreadState *ts, PyObject **sp, int oparg, PyjFrame *callee, PyObject *res)
{
    if (!pyj_gen_finish_yield(ts, callee, res)) {
        return PYJ_DIRECT_DECLINED;
    }
    sp[-1] = res;
    return PYJ_DIRECT_NEXT;
}

int
pyj_op_get_yield_from_iter(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *iterable = TOP();
    if (PyCoro_CheckExact(iterable)) {
        if (!(f->f_code->co_flags & (CO_COROUTINE | CO_ITERABLE_COROUTINE))) {
            Py_DECREF(iterable);
            PyErr_SetString(PyExc_TypeError,
                            "cannot 'yield from' a coroutine object in a non-coroutine generator");
            return -1;
        }
    }
    else if (!PyGen_CheckExact(iterable)) {
        PyObject *iter = PyObject_GetIter(iterable);
        Py_DECREF(iterable);
        if (iter == NULL) {
            return -1;
        }
        TOP() = iter;
    }
    return 0;
}

int
pyj_op_get_awaitable(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *iterable = TOP();
    PyObject *iter = awaitable_iter(iterable);
    if (iter == NULL) {
        PyTypeObject *type = Py_TYPE(iterable);
        if (type->tp_as_async == NULL || type->tp_as_async->am_await == NULL) {
            if (oparg == 1) {
                PyErr_Format(PyExc_TypeError,
                             "'async with' received an object from __aenter__ "
                             "that does not implement __await__: %.100s", type->tp_name);
            }
            else if (oparg == 2) {
                PyErr_Format(PyExc_TypeError,
                             "'async with' received an object from __aexit__ "
                             "that does not implement __await__: %.100s", type->tp_name);
            }
        }
    }
    Py_DECREF(iterable);
    if (iter != NULL && PyCoro_CheckExact(iter) && delegate_of((PyGenObject *)iter) != NULL) {
        Py_CLEAR(iter);
        PyErr_SetString(PyExc_RuntimeError, "coroutine is being awaited already");
    }
    if (iter == NULL) {
        return -1;
    }
    TOP() = iter;
    return 0;
}

int
pyj_op_get_aiter(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *obj = TOP();
    PyTypeObject *type = Py_TYPE(obj);
    unaryfunc getter = type->tp_as_async != NULL ? type->tp_as_async->am_aiter : NULL;
    if (getter == NULL) {
        PyErr_Format(PyExc_TypeError,
                     "'async for' requires an object with __aiter__ method, got %.100s",
                     type->tp_name);
        Py_DECREF(obj);
        return -1;
    }
    PyObject *iter = getter(obj);
    Py_DECREF(obj);
    if (iter == NULL) {
        return -1;
    }
    if (Py_TYPE(iter)->tp_as_async == NULL || Py_TYPE(iter)->tp_as_async->am_anext == NULL) {
        PyErr_Format(PyExc_TypeError,
                     "'async for' received an object from __aiter__ "
                     "that does not implement __anext__: %.100s", Py_TYPE(iter)->tp_name);
        Py_DECREF(iter);
        return -1;
    }
    TOP() = iter;
    return 0;
}

/* [aiter] -> [aiter, awaitable] */
int
pyj_op_get_anext(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *aiter = TOP();
    PyTypeObject *type = Py_TYPE(aiter);
    PyObject *awaitable;
    if (PyAsyncGen_CheckExact(aiter)) {
        awaitable = type->tp_as_async->am_anext(aiter);
    }
    else {
        unaryfunc getter = type->tp_as_async != NULL ? type->tp_as_async->am_anext : NULL;
        if (getter == NULL) {
            PyErr_Format(PyExc_TypeError,
                         "'async for' requires an iterator with __anext__ method, got %.100s",
                         type->tp_name);
            return -1;
        }
        PyObject *next_iter = getter(aiter);
        if (next_iter == NULL) {
            return -1;
        }
        awaitable = awaitable_iter(next_iter);
        if (awaitable == NULL) {
            _PyErr_FormatFromCause(PyExc_TypeError,
                                   "'async for' received an invalid object from __anext__: %.100s",
                                   Py_TYPE(next_iter)->tp_name);
        }
        Py_DECREF(next_iter);
    }
    if (awaitable == NULL) {
        return -1;
    }
    sp[0] = awaitable;
    return 0;
}

/* [aiter, exc]: StopAsyncIteration ends the loop; anything else propagates
 * with its own traceback (no new entry, hence -2). */
int
pyj_op_end_async_for(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *val = POP();
    if (PyErr_GivenExceptionMatches(val, PyExc_StopAsyncIteration)) {
        Py_DECREF(val);
        Py_DECREF(POP());
        return 0;
    }
    PyObject *exc = Py_NewRef(PyExceptionInstance_Class(val));
    PyObject *tb = PyException_GetTraceback(val);
    PyErr_Restore(exc, val, tb);
    return -2;
}

/* ------------------------------------------------ async generator values */

/* genobject.c's _PyAsyncGenWrappedValue: how an async generator tells its
 * driver "this is a yield, not an await passing through".  The type object
 * is not exported, so it is learnt once by watching an async generator run
 * in the interpreter. */
typedef struct {
    PyObject_HEAD
    PyObject *agw_val;
} pyj_wrapped_value;

static PyTypeObject *g_wrapped_value_type;

static PyObject *
probe_eval(PyThreadState *ts, PyjFrame *frame, int throwflag)
{
    PyObject *res = _PyEval_EvalFrameDefault(ts, frame, throwflag);
    if (res != NULL && frame->owner == FRAME_OWNED_BY_GENERATOR
        && (frame->f_code->co_flags & CO_ASYNC_GENERATOR)
        && _PyFrame_GetGenerator(frame)->gi_frame_state == FRAME_SUSPENDED
        && strcmp(Py_TYPE(res)->tp_name, "async_generator_wrapped_value") == 0
        && Py_TYPE(res)->tp_basicsize == sizeof(pyj_wrapped_value)
        && PyType_IS_GC(Py_TYPE(res))) {
        g_wrapped_value_type = (PyTypeObject *)Py_NewRef(Py_TYPE(res));
    }
    return res;
}

int
pyj_gen_discover_wrapped_value_type(PyObject *drive_probe)
{
    if (g_wrapped_value_type != NULL) {
        return 1;
    }
    PyInterpreterState *interp = PyInterpreterState_Get();
    _PyFrameEvalFunction previous = _PyInterpreterState_GetEvalFrameFunc(interp);
    _PyInterpreterState_SetEvalFrameFunc(interp, probe_eval);
    PyObject *res = PyObject_CallNoArgs(drive_probe);
    _PyInterpreterState_SetEvalFrameFunc(interp, previous);
    if (res == NULL) {
        PyErr_Clear();
    }
    Py_XDECREF(res);
    return g_wrapped_value_type != NULL;
}

int
pyj_gen_async_supported(void)
{
    return g_wrapped_value_type != NULL;
}

int
pyj_op_async_gen_wrap(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *v = TOP();
    pyj_wrapped_value *w = PyObject_GC_New(pyj_wrapped_value, g_wrapped_value_type);
    if (w == NULL) {
        return -1;
    }
    w->agw_val = v;     /* the stack's reference moves into the wrapper */
    PyObject_GC_Track((PyObject *)w);
    TOP() = (PyObject *)w;
    return 0;
}

/* A compiled generator was resumed at an instruction it cannot suspend at. */
int
pyj_op_bad_resume(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyErr_Format(PyExc_SystemError, "pyjion_clr: %U resumed at unexpected offset %d",
                 f->f_code->co_qualname, _PyInterpreterFrame_LASTI(f));
    return -1;
}
