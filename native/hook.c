/* The PEP 523 frame hook.
 *
 * Mechanism only: count calls, ask the compile driver (a Python callable)
 * once a code object is hot, and from then on run the native entry point it
 * returned, linked into the frame stack as the default evaluator would.  What
 * to compile, and how, is decided above this file.
 */
/* our own copy of the opcode tables: libpython keeps its copy hidden */
#define NEED_OPCODE_TABLES
#include "hook.h"
#include "generator_new.h"
#include "native_stack.h"

Py_ssize_t pyj_extra_index = -1;
static int g_installed;
static _PyFrameEvalFunction g_previous;
static Py_ssize_t g_threshold = 0;
static PyObject *g_compiler;            /* strong reference */
static PyObject *g_releaser;            /* called with a handle when its code dies */
int pyj_backend_alive = 1;
/* The thread running the compiler, if any: the code it runs for the
 * compiler is never compiled, and other threads do not start a compile
 * until it is done (they interpret meanwhile).  Compared with the hook's
 * own tstate argument: cheaper than thread-local storage in a shared
 * library, which costs a __tls_get_addr call per frame. */
static PyThreadState *g_compiling_thread;
Py_ssize_t pyj_compiled_calls;
static Py_ssize_t g_interpreted_calls, g_compiler_calls;
/* compiled calls made by compiled code through a direct entry (the rest
 * came through the hook: from the interpreter, C code or vectorcall) */
Py_ssize_t pyj_direct_calls;
Py_ssize_t pyj_quiet_closes;
static Py_ssize_t g_waiting_codes;     /* code states with retry_at > 0 */

uint64_t pyj_code_epoch = 1;

/* The backend's compiled code kept alive by handle goes. */
static void
release_handle(PyObject *handle)
{
    /* at exit the backend (and its runtime) may be gone: just drop handles */
    if (handle != NULL && handle != Py_None && g_releaser != NULL
        && pyj_backend_alive && !_Py_IsFinalizing()) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyObject *res = PyObject_CallOneArg(g_releaser, handle);
        if (res == NULL) {
            PyErr_WriteUnraisable(g_releaser);
        }
        Py_XDECREF(res);
        PyErr_Restore(type, value, tb);
    }
}

static void
free_code_state(void *ptr)
{
    pyj_code_state *st = (pyj_code_state *)ptr;
    if (st == NULL) {
        return;
    }
    pyj_code_epoch++;
    if (st->retry_at > 0) {
        g_waiting_codes--;
    }
    release_handle(st->handle);
    if (st->retired != NULL) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(st->retired); i++) {
            release_handle(PyList_GET_ITEM(st->retired, i));
        }
        Py_DECREF(st->retired);
    }
    Py_XDECREF(st->handle);
    Py_XDECREF(st->record);
    PyMem_Free(st->site_caches);
    PyMem_Free(st);
}

int
pyj_hook_extra_index(void)
{
    if (pyj_extra_index < 0) {
        pyj_extra_index = _PyEval_RequestCodeExtraIndex(free_code_state);
    }
    return (int)pyj_extra_index;
}

pyj_code_state *
pyj_hook_state_for(PyCodeObject *code, int create)
{
    if (pyj_hook_extra_index() < 0) {
        return NULL;
    }
    pyj_code_state *found = pyj_hook_state_of(code);
    if (found != NULL || !create) {
        return found;
    }
    pyj_code_state *st = PyMem_Calloc(1, sizeof(pyj_code_state));
    if (st == NULL) {
        return NULL;
    }
    if (_PyCode_SetExtra((PyObject *)code, pyj_extra_index, st) < 0) {
        PyErr_Clear();
        PyMem_Free(st);
        return NULL;
    }
    return st;
}

void *
pyj_hook_site_caches(PyCodeObject *code, Py_ssize_t size)
{
    pyj_code_state *st = pyj_hook_state_for(code, 1);
    if (st == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "no per-code state for this code object");
        return NULL;
    }
    if (st->site_caches != NULL) {
        /* translation is deterministic: a second one needs the same size */
        if (size > st->site_caches_size) {
            PyErr_SetString(PyExc_RuntimeError, "inline cache block size changed");
            return NULL;
        }
        return st->site_caches;
    }
    st->site_caches = PyMem_Calloc(1, size > 0 ? (size_t)size : 1);
    if (st->site_caches == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    st->site_caches_size = size;
    return st->site_caches;
}

/* The handle and record tuples hold only atomic values (str, int, float,
 * None): untracked, they are invisible to the collector, so compiling adds
 * nothing to gc.get_objects() (CPython's test_descr counts them). */
static PyObject *
untracked_if_atomic(PyObject *tuple)
{
    if (!PyTuple_CheckExact(tuple) || !PyObject_GC_IsTracked(tuple)) {
        return tuple;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(tuple); i++) {
        if (_PyObject_GC_MAY_BE_TRACKED(PyTuple_GET_ITEM(tuple, i))) {
            return tuple;
        }
    }
    PyObject_GC_UnTrack(tuple);
    return tuple;
}

/* Calls the compile driver for code (recompile: it was compiled before)
 * and returns what it answered, checked: NULL if it failed, which it
 * reports.  The caller keeps any pending exception (a generator's frame is
 * entered with the one thrown into it) out of the way meanwhile. */
static PyObject *
call_driver(PyThreadState *ts, PyCodeObject *code, int recompile)
{
    g_compiling_thread = ts;
    /* The compiler must not see the exception the program is handling:
     * anything it raised would chain it as __context__ and might keep it
     * (and its traceback's frames) alive.  Give it an empty exc_info stack. */
    _PyErr_StackItem *saved_exc_info = ts->exc_info;
    _PyErr_StackItem empty = {NULL, NULL};
    ts->exc_info = &empty;
    PyObject *res = PyObject_CallFunctionObjArgs(g_compiler, (PyObject *)code,
                                                 recompile ? Py_True : Py_False, NULL);
    ts->exc_info = saved_exc_info;
    Py_CLEAR(empty.exc_value);
    g_compiling_thread = NULL;
    if (res == NULL) {
        if (PyErr_ExceptionMatches(PyExc_Exception)) {
            /* The driver reports its own failures; this is a bug in it. */
            PyErr_WriteUnraisable(g_compiler);
        }
        else {
            /* KeyboardInterrupt or SystemExit from a signal handler that ran
             * while compiling: the program must still see it, where the
             * interpreter would have (at the next eval-breaker check, in
             * the frame about to run), so it is re-posted as an
             * asynchronous exception of this thread. */
            PyObject *etype, *evalue, *etb;
            PyErr_Fetch(&etype, &evalue, &etb);
            PyThreadState_SetAsyncExc((unsigned long)ts->thread_id, etype);
            Py_XDECREF(etype);
            Py_XDECREF(evalue);
            Py_XDECREF(etb);
        }
    }
    else if (!PyTuple_Check(res) || PyTuple_GET_SIZE(res) != 6) {
        PyErr_SetString(PyExc_TypeError, "compile driver must return (entry, direct_entry, "
                        "handle, record, retry, profile_after)");
        PyErr_WriteUnraisable(g_compiler);
        Py_CLEAR(res);
    }
    return res;
}

/* An int field of the driver's answer; -1 (reported) if it is not one. */
static Py_ssize_t
answer_count(PyObject *res, int i)
{
    Py_ssize_t n = PyLong_AsSsize_t(PyTuple_GET_ITEM(res, i));
    if (n == -1 && PyErr_Occurred()) {
        PyErr_WriteUnraisable(g_compiler);
    }
    return n;
}

/* Code compiled without feedback is profiled if it makes at least one in
 * this many of all compiled calls until it is due (hexiom's `solve_step`,
 * called a few times a round, came due in the third of a pyperf worker's
 * timed values, with six others, and doubled it). */
#define PROFILED_SHARE 1000

/* Takes the compiled code the driver answered with into st: 1 if it
 * compiled the code, else 0 with st unchanged but for its record (kept
 * too after a failed recompile: the code stays compiled). */
static int
take_compiled(pyj_code_state *st, PyObject *res, int recompile)
{
    void *entry = PyLong_AsVoidPtr(PyTuple_GET_ITEM(res, 0));
    void *direct_entry = entry != NULL ? PyLong_AsVoidPtr(PyTuple_GET_ITEM(res, 1)) : NULL;
    if (PyErr_Occurred()) {
        PyErr_WriteUnraisable(g_compiler);
        entry = NULL;
    }
    if (entry == NULL && recompile) {
        return 0;
    }
    Py_XSETREF(st->record, Py_NewRef(untracked_if_atomic(PyTuple_GET_ITEM(res, 3))));
    if (entry == NULL) {
        return 0;
    }
    if (st->handle != NULL && st->handle != Py_None) {
        /* compiled again: frames of the code before may still be running */
        if (st->retired == NULL && (st->retired = PyList_New(0)) == NULL) {
            PyErr_WriteUnraisable(g_compiler);
            return 0;
        }
        if (PyList_Append(st->retired, st->handle) < 0) {
            PyErr_WriteUnraisable(g_compiler);
            return 0;
        }
    }
    Py_XSETREF(st->handle, Py_NewRef(untracked_if_atomic(PyTuple_GET_ITEM(res, 2))));
    Py_ssize_t profile_after = answer_count(res, 5);
    st->profile_at = profile_after > 0 ? st->compiled_calls + profile_after : -1;
    st->profile_deadline = pyj_compiled_calls + profile_after * PROFILED_SHARE;
    st->entry = (pyj_entry_fn)entry;
    st->direct_entry = direct_entry;
    return 1;
}

/* The keys versions the compiler checks the interpreter's global caches
 * against: those of the call the code is compiled at.  (At a first call, a
 * module's keys often have no version yet, 0: the interpreter assigns one
 * when it first specialises a LOAD_GLOBAL.) */
static void
note_namespace_versions(pyj_code_state *st, PyjFrame *frame)
{
    st->globals_keys_version = pyj_dict_keys_version(frame->f_globals);
    st->builtins_keys_version = pyj_dict_keys_version(frame->f_builtins);
}

/* Ask the driver for a native entry point; any failure leaves the code to the
 * interpreter for good. */
static void
compile_code(PyCodeObject *code, pyj_code_state *st)
{
    if (st->retry_at > 0) {         /* offered again: no longer waiting */
        st->retry_at = 0;
        g_waiting_codes--;
    }
    if (g_compiler == NULL) {
        st->status = PYJ_INTERPRETED;
        return;
    }
    if (g_compiling_thread != NULL) {
        return;                     /* another thread is compiling: later */
    }
    st->status = PYJ_COMPILING;     /* other threads interpret it meanwhile */
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject *res = call_driver(PyThreadState_Get(), code, 0);
    if (res != NULL) {
        if (take_compiled(st, res, 0)) {
            st->status = PYJ_COMPILED;
        }
        else {
            Py_ssize_t retry = answer_count(res, 4);
            if (retry > 0) {
                st->status = PYJ_COLD;      /* offered again after that many calls */
                st->retry_at = st->calls + retry;
                g_waiting_codes++;
            }
        }
    }
    if (st->status == PYJ_COMPILING) {
        st->status = PYJ_INTERPRETED;
    }
    Py_XDECREF(res);
    PyErr_Restore(type, value, tb);
}

/* Profiling code compiled without feedback: calls that the interpreter
 * runs until it has quickened the code (3.11 does at the eighth entry or
 * loop edge) and run one call so, specialising each instruction reached
 * at its first run; at most this many. */
#define PROFILED_CALLS_MAX 16

/* A call of code whose profiling is due: 1 if it is to be interpreted
 * (profiled), else 0 once the code has been compiled again with the
 * interpreter's feedback (or kept as it was, if that failed). */
static int
profile_call(PyThreadState *ts, PyjFrame *frame, pyj_code_state *st)
{
    PyCodeObject *code = frame->f_code;
    if (st->profiled_calls == 0 && pyj_compiled_calls > st->profile_deadline) {
        st->profile_at = -1;            /* too rare: stays as it is */
        return 0;
    }
    if (st->quickened_calls == 0 && st->profiled_calls < PROFILED_CALLS_MAX) {
        st->profiled_calls++;
        if (code->co_warmup == 0) {
            st->quickened_calls++;
        }
        return 1;
    }
    if (g_compiling_thread != NULL || g_compiler == NULL) {
        return g_compiler != NULL;      /* another thread is compiling: later */
    }
    st->profile_at = -1;                /* whatever the answer, once only */
    note_namespace_versions(st, frame);
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject *res = call_driver(ts, code, 1);
    if (res != NULL) {
        take_compiled(st, res, 1);
        Py_DECREF(res);
    }
    PyErr_Restore(type, value, tb);
    return 0;
}

/* The backend's way in from native code to a direct entry, if it has one
 * cheaper than the per-method entry point (CoreCLR: one method marked
 * UnmanagedCallersOnly that calls the direct entry, instead of each
 * method's delegate stub). */
typedef PyObject *(*pyj_trampoline_fn)(PyThreadState *, PyjFrame *, int, void *direct_entry);
static pyj_trampoline_fn g_direct_trampoline;

void pyj_hook_set_direct_trampoline(void *fn) { g_direct_trampoline = (pyj_trampoline_fn)fn; }

static PyObject *
run_compiled(PyThreadState *ts, PyjFrame *frame, int throwflag, pyj_code_state *st)
{
    pyj_frame_link link;
    PyObject *res;
    pyj_link_frame(ts, frame, &link);
    if (pyj_enter_recursive_call(ts)) {
        res = NULL;
    }
    else {
        if (st->direct_entry != NULL && g_direct_trampoline != NULL) {
            res = g_direct_trampoline(ts, frame, throwflag, st->direct_entry);
        }
        else {
            res = st->entry(ts, frame, throwflag);
        }
        pyj_leave_recursive_call(ts);
    }
    pyj_unlink_frame(ts, &link);
    return res;
}

static int
code_has_loop(PyCodeObject *code)
{
    Py_ssize_t n = Py_SIZE(code);
    _Py_CODEUNIT *units = _PyCode_CODE(code);
    for (Py_ssize_t i = 0; i < n; i++) {
        int op = _PyOpcode_Deopt[_Py_OPCODE(units[i])];
        if (op == JUMP_BACKWARD || op == POP_JUMP_BACKWARD_IF_FALSE
            || op == POP_JUMP_BACKWARD_IF_TRUE || op == POP_JUMP_BACKWARD_IF_NONE
            || op == POP_JUMP_BACKWARD_IF_NOT_NONE) {
            return 1;
        }
        i += _PyOpcode_Caches[op];
    }
    return 0;
}

PyObject *
pyj_hook_eval_frame(PyThreadState *ts, PyjFrame *frame, int throwflag)
{
    if (pyj_native_stack_low()) {
        return pyj_native_stack_exhausted();
    }
    if (ts == g_compiling_thread) {
        g_compiler_calls++;     /* the compiler's own Python code */
        return _PyEval_EvalFrameDefault(ts, frame, throwflag);
    }
    if (pyj_tracing_active(ts)) {
        goto interpret;
    }
    /* A generator function's own call only runs RETURN_GENERATOR: done
     * here when it can be (generator_new.h), else by the interpreter.
     * Compiled code takes over at the generator's first resumption. */
    if (pyj_is_generator_code(frame->f_code) && !pyj_frame_owned_by_generator(frame)) {
        if (pyj_generator_makeable(ts, frame->f_code)) {
            return pyj_generator_from_frame(frame);
        }
        goto interpret;
    }
    pyj_code_state *st = pyj_hook_state_of(frame->f_code);
    if (st == NULL && (st = pyj_hook_state_for(frame->f_code, 1)) == NULL) {
        goto interpret;
    }
    if (st->status == PYJ_COLD) {
        /* No on-stack replacement: a loop that starts in the interpreter
         * stays there, so code with a loop is hot at its first call. */
        if (st->calls >= st->retry_at
            && (st->calls >= g_threshold || code_has_loop(frame->f_code))) {
            note_namespace_versions(st, frame);
            compile_code(frame->f_code, st);
        }
        if (st->status == PYJ_COLD) {
            st->calls++;            /* this call runs in the interpreter */
        }
    }
    if (st->status == PYJ_COMPILED && pyj_backend_alive) {
        if (st->compiled_calls == st->profile_at && profile_call(ts, frame, st)) {
            goto interpret;
        }
        st->compiled_calls++;
        pyj_compiled_calls++;
        return run_compiled(ts, frame, throwflag, st);
    }
interpret:
    g_interpreted_calls++;
    return _PyEval_EvalFrameDefault(ts, frame, throwflag);
}

int
pyj_hook_install(void)
{
    if (pyj_hook_extra_index() < 0) {
        return -1;
    }
    if (!g_installed) {
        PyInterpreterState *interp = PyInterpreterState_Get();
        g_previous = _PyInterpreterState_GetEvalFrameFunc(interp);
        _PyInterpreterState_SetEvalFrameFunc(interp, pyj_hook_eval_frame);
        g_installed = 1;
    }
    return 0;
}

void
pyj_hook_uninstall(void)
{
    if (g_installed) {
        _PyInterpreterState_SetEvalFrameFunc(PyInterpreterState_Get(), g_previous);
        g_installed = 0;
    }
}

int pyj_hook_installed(void) { return g_installed; }

void pyj_hook_set_threshold(Py_ssize_t t) { g_threshold = t; }
Py_ssize_t pyj_hook_get_threshold(void) { return g_threshold; }
void pyj_hook_set_backend_alive(int alive) { pyj_backend_alive = alive; }

void
pyj_hook_set_compiler(PyObject *callback)
{
    Py_XINCREF(callback);
    Py_XSETREF(g_compiler, callback);
}

void
pyj_hook_set_releaser(PyObject *callback)
{
    Py_XINCREF(callback);
    Py_XSETREF(g_releaser, callback);
}

PyObject *
pyj_hook_counters(void)
{
    return Py_BuildValue("{snsnsnsnsnsn}", "compiled_calls", pyj_compiled_calls,
                         "direct_calls", pyj_direct_calls,
                         /* generators closed without GeneratorExit (gen_ops.h) */
                         "quiet_closes", pyj_quiet_closes,
                         "interpreted_calls", g_interpreted_calls,
                         "compiler_calls", g_compiler_calls,
                         /* left to the interpreter until called more */
                         "deferred", g_waiting_codes);
}
