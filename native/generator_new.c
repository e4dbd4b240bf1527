/* RETURN_GENERATOR without the interpreter.
 *
 * Calling a generator function runs exactly one instruction of it: the
 * interpreter enters the pushed frame, RETURN_GENERATOR makes the object
 * (_Py_MakeCoro, hidden in libpython), copies the frame into it and
 * returns it; the caller then clears and pops the frame.  Entering the
 * interpreter, pushing and copying cost more than the object itself, so a
 * call from compiled code builds the generator's frame in place, and the
 * frame hook, handed a pushed frame, copies it as RETURN_GENERATOR does.
 * Either way the object is the one the interpreter makes: same type and
 * fields, a frame in the state FRAME_CREATED with prev_instr at
 * RETURN_GENERATOR, which the interpreter and compiled code both resume.
 */
#include "generator_new.h"
#include "direct_call.h"
#include "ops.h"

/* Where code's RETURN_GENERATOR is: first, or after the COPY_FREE_VARS of
 * a closure (done here too); -1 when something else comes first (MAKE_CELL
 * can fail, which the interpreter reports from inside the frame). */
static int
return_generator_index(PyCodeObject *code)
{
    _Py_CODEUNIT *units = _PyCode_CODE(code);
    int i = _PyOpcode_Deopt[_Py_OPCODE(units[0])] == COPY_FREE_VARS ? 1 : 0;
    return _PyOpcode_Deopt[_Py_OPCODE(units[i])] == RETURN_GENERATOR ? i : -1;
}

int
pyj_generator_makeable(PyThreadState *ts, PyCodeObject *code)
{
    if (!pyj_is_generator_code(code) || return_generator_index(code) < 0) {
        return 0;
    }
    if ((code->co_flags & CO_COROUTINE) && ts->coroutine_origin_tracking_depth > 0) {
        return 0;                   /* the origin is computed from the frames */
    }
    return ts->recursion_remaining > 0 && !pyj_tracing_active(ts);
}

/* genobject.c's make_gen and _Py_MakeCoro: the object, its frame not yet
 * filled in (gi_frame_state FRAME_CLEARED, as there) */
static PyGenObject *
new_generator(PyFunctionObject *func)
{
    PyCodeObject *code = (PyCodeObject *)func->func_code;
    PyTypeObject *type = (code->co_flags & CO_COROUTINE) ? &PyCoro_Type
        : (code->co_flags & CO_ASYNC_GENERATOR) ? &PyAsyncGen_Type : &PyGen_Type;
    PyGenObject *gen = PyObject_GC_NewVar(PyGenObject, type,
                                          code->co_nlocalsplus + code->co_stacksize);
    if (gen == NULL) {
        return NULL;
    }
    gen->gi_frame_state = FRAME_CLEARED;
    gen->gi_code = (PyCodeObject *)Py_NewRef(code);
    gen->gi_weakreflist = NULL;
    gen->gi_exc_state.exc_value = NULL;
    gen->gi_exc_state.previous_item = NULL;
    gen->gi_name = Py_NewRef(func->func_name);
    gen->gi_qualname = Py_NewRef(func->func_qualname);
    /* the coroutine's origin (tracking is off: pyj_generator_makeable) and
     * the async generator's hooks and flags; unused by plain generators */
    gen->gi_origin_or_finalizer = NULL;
    gen->gi_hooks_inited = 0;
    gen->gi_closed = 0;
    gen->gi_running_async = 0;
    PyObject_GC_Track(gen);
    return gen;
}

/* The generator's frame, its locals filled: the instructions before
 * RETURN_GENERATOR run, and the state RETURN_GENERATOR leaves */
static void
mark_created(PyGenObject *gen, PyjFrame *gen_frame)
{
    int index = return_generator_index(gen_frame->f_code);
    if (index > 0) {
        pyj_copy_free_vars(gen_frame, gen_frame->f_code->co_nfreevars);
    }
    gen_frame->prev_instr = _PyCode_CODE(gen_frame->f_code) + index;
    gen_frame->owner = FRAME_OWNED_BY_GENERATOR;
    gen_frame->previous = NULL;     /* not running: no caller */
    gen->gi_frame_state = FRAME_CREATED;
}

PyObject *
pyj_generator_for_call(PyFunctionObject *func, PyObject **args, Py_ssize_t nargs,
                       PyObject *kwnames)
{
    PyGenObject *gen = new_generator(func);
    if (gen == NULL) {
        for (Py_ssize_t i = 0; i < nargs; i++) {
            Py_DECREF(args[i]);
        }
        return NULL;
    }
    PyjFrame *frame = (PyjFrame *)gen->gi_iframe;
    PyCodeObject *code = (PyCodeObject *)func->func_code;
    Py_INCREF(func);
    _PyFrame_InitializeSpecials(frame, func, pyj_call_locals(func), code->co_nlocalsplus);
    pyj_fill_locals(frame, func, args, nargs, kwnames);
    mark_created(gen, frame);
    return (PyObject *)gen;
}

PyObject *
pyj_generator_from_frame(PyjFrame *frame)
{
    PyGenObject *gen = new_generator(frame->f_func);
    if (gen == NULL) {
        return NULL;
    }
    /* _PyFrame_Copy: the generator's frame takes over every reference */
    PyjFrame *gen_frame = (PyjFrame *)gen->gi_iframe;
    memcpy(gen_frame, frame, (char *)&frame->localsplus[frame->stacktop] - (char *)frame);
    mark_created(gen, gen_frame);
    /* the pushed frame, emptied, keeps what its clearing releases */
    frame->stacktop = 0;
    frame->f_locals = NULL;
    Py_INCREF(frame->f_func);
    Py_INCREF(frame->f_code);
    return (PyObject *)gen;
}
