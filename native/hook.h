/* The PEP 523 frame hook and the per-code state it keeps in co_extra. */
#ifndef PYJION_HOOK_H
#define PYJION_HOOK_H
#include "cpython311.h"

enum pyj_code_status { PYJ_COLD = 0, PYJ_COMPILED = 1, PYJ_INTERPRETED = 2, PYJ_COMPILING = 3 };

typedef struct {
    int status;
    Py_ssize_t calls;            /* calls seen while cold (for the threshold) */
    Py_ssize_t retry_at;         /* > 0: cold until this many calls (the backend
                                  * asked to wait), not yet offered again */
    Py_ssize_t compiled_calls;   /* calls that ran the native entry point */
    pyj_entry_fn entry;
    /* The backend's entry point for calls made by its own compiled code,
     * which push and link the callee's frame themselves and call this
     * without leaving the backend's runtime (CoreCLR: the method's managed
     * entry point, called without a reverse P/Invoke).  NULL if none. */
    void *direct_entry;
    PyObject *handle;            /* backend's keep-alive handle, released with the code */
    PyObject *record;            /* what the compile driver reported, for info() */
    void *site_caches;           /* the compiled code's inline caches (site_cache.h) */
    /* the keys versions of the globals and builtins of the call the code
     * was last offered for compiling at (cpython311.h's
     * pyj_dict_keys_version), for the compiler's facts */
    uint32_t globals_keys_version;
    uint32_t builtins_keys_version;
    Py_ssize_t site_caches_size;
    /* Code compiled at its first call, before the interpreter specialised
     * anything, is compiled again with the feedback the interpreter then
     * collects (see hook.c): at profile_at compiled calls (-1: never) it is
     * run by the interpreter instead, for a few calls, counted here
     * (those that began with the code already quickened, and all). */
    Py_ssize_t profile_at;
    /* ... unless all compiled calls (pyj_compiled_calls) are past this by
     * then: code that rare gains little, and its profiling and second
     * compile would land in the middle of what its caller is doing */
    Py_ssize_t profile_deadline;
    int quickened_calls;
    int profiled_calls;
    PyObject *retired;           /* list of handles of code compiled before, or NULL */
} pyj_code_state;

int pyj_hook_install(void);
/* The hook itself, for callers that push a frame and evaluate it directly. */
PyObject *pyj_hook_eval_frame(PyThreadState *ts, PyjFrame *frame, int throwflag);
/* Is the hook the interpreter's frame evaluator now (not another PEP 523 user)? */
static inline int
pyj_hook_is_evaluator(PyThreadState *ts)
{
    return ts->interp->eval_frame == pyj_hook_eval_frame;
}
void pyj_hook_uninstall(void);
int pyj_hook_installed(void);
void pyj_hook_set_threshold(Py_ssize_t threshold);
Py_ssize_t pyj_hook_get_threshold(void);
/* callback(code, recompile) -> (entry_address, direct_entry_address, handle,
 * record, retry, profile_after), entry 0 if the code stays interpreted (see
 * _driver.compile_code) */
void pyj_hook_set_compiler(PyObject *callback);
/* releaser(handle) is called when a compiled code object dies. */
void pyj_hook_set_releaser(PyObject *callback);
/* fn(tstate, frame, throwflag, direct_entry): how the hook runs code that
 * has a direct entry, when the backend offers it (NULL: the entry point). */
void pyj_hook_set_direct_trampoline(void *fn);
/* Compiled code is only called while the backend says it is alive. */
void pyj_hook_set_backend_alive(int alive);
pyj_code_state *pyj_hook_state_for(PyCodeObject *code, int create);

/* What the hook keeps that the inline function below reads: is the
 * backend alive, calls of compiled code (all, and those made through
 * direct entries); and the count of pyj_gen_close_quietly's closes. */
extern int pyj_backend_alive;
extern Py_ssize_t pyj_compiled_calls, pyj_direct_calls, pyj_quiet_closes;

/* pyj_hook_direct_entry for the code whose state is st (inline: each
 * direct call made through a call record, direct_call.h, asks). */
static inline void *
pyj_hook_state_entry(PyThreadState *ts, pyj_code_state *st)
{
    /* (a call while the code is profiled is the hook's, which runs it in
     * the interpreter) */
    if (st->status != PYJ_COMPILED || st->direct_entry == NULL
        || st->compiled_calls == st->profile_at || !pyj_backend_alive
        || pyj_tracing_active(ts) || !pyj_hook_is_evaluator(ts)) {
        return NULL;
    }
    st->compiled_calls++;
    pyj_compiled_calls++;
    pyj_direct_calls++;
    return st->direct_entry;
}

/* The index of the code state in code objects' co_extra (-1 until the
 * first pyj_hook_state_for), and the state of code if it has one. */
extern Py_ssize_t pyj_extra_index;

static inline pyj_code_state *
pyj_hook_state_of(PyCodeObject *code)
{
    return pyj_extra_index >= 0 ? pyj_code_extra_slot(code, pyj_extra_index) : NULL;
}

/* code's direct entry if compiled code may call it itself right now (the
 * hook would run it compiled: no tracing, backend alive), else NULL; counts
 * the call as a compiled one. */
static inline void *
pyj_hook_direct_entry(PyThreadState *ts, PyCodeObject *code)
{
    pyj_code_state *st = pyj_hook_state_of(code);
    return st != NULL ? pyj_hook_state_entry(ts, st) : NULL;
}

/* Counts the code states freed, from 1: a pointer to a code object (or
 * its state) remembered with the count of the time stays valid while the
 * count is unchanged. */
extern uint64_t pyj_code_epoch;
PyObject *pyj_hook_counters(void);
int pyj_hook_extra_index(void);
/* The code's inline-cache block of at least `size` bytes, zeroed when new;
 * it lives as long as the code object.  NULL (with an exception) on failure. */
void *pyj_hook_site_caches(PyCodeObject *code, Py_ssize_t size);

#endif
