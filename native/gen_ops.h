/* Runtime helpers for generators, coroutines and async generators: the
 * opcodes that only appear in their code (see gen_ops.c). */
#ifndef PYJION_GEN_OPS_H
#define PYJION_GEN_OPS_H
#include "cpython311.h"

/* SEND in two parts, as CALL (ops.h) */
void *pyj_op_send(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux, PyjFrame **callee);
int pyj_send_return(PyThreadState *ts, PyObject **sp, int oparg, PyjFrame *callee, PyObject *res);
/* ... and its leaf halves (ops.h) */
void *pyj_op_send_leaf(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux, PyjFrame **callee);
int pyj_send_return_leaf(PyThreadState *ts, PyObject **sp, int oparg, PyjFrame *callee,
                         PyObject *res);
int pyj_op_get_yield_from_iter(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux);
int pyj_op_get_awaitable(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux);
int pyj_op_get_aiter(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux);
int pyj_op_get_anext(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux);
int pyj_op_end_async_for(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux);
int pyj_op_async_gen_wrap(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux);
int pyj_op_bad_resume(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux);

/* genobject.c's gen_close for a generator whose last reference the
 * caller holds, suspended at a yield that no handler covers (its code has
 * no try or with) and not delegating, when releasing its frame runs no
 * code: GeneratorExit raised there would only unwind the frame, so the
 * frame is released as that unwinding releases it, without the exception,
 * its traceback and the frame object they need (3.12's gen_close skips
 * them too).  Not while tracing, which sees the unwinding.  1 when closed
 * (releasing the generator then runs no close), 0 if left as it was. */
int pyj_gen_close_quietly(PyThreadState *ts, PyObject *gen);

/* Learns the type of the value an async generator yields to its driver
 * (hidden in libpython) by running `drive_probe`, which must step an async
 * generator once.  Returns 1 if found, 0 if not (async generators then stay
 * with the interpreter). */
int pyj_gen_discover_wrapped_value_type(PyObject *drive_probe);
int pyj_gen_async_supported(void);

#define GEN_HELPERS \
    HELPER(send), HELPER(get_yield_from_iter), HELPER(get_awaitable), \
    HELPER(get_aiter), HELPER(get_anext), HELPER(end_async_for), HELPER(async_gen_wrap), \
    HELPER(bad_resume),

#endif
