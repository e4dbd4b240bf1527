/* Runtime helpers called from compiled code.
 *
 * Every opcode helper has the same shape, so the translator needs one calli
 * signature and one call emitter for all of them:
 *
 *     int pyj_op_NAME(PyjFrame *frame, PyObject **sp, int oparg, PyObject *aux)
 *
 * `sp` points just above the top of the value stack, which lives in the
 * frame's own memory (localsplus after the locals), exactly like the
 * interpreter's stack_pointer.  A helper pops and pushes in place as its
 * opcode does and returns:
 *     0   done, fall through
 *     1   done, take the branch (branching opcodes only)
 *    -1   error: exception set, a traceback entry is to be added
 *    -2   error being re-raised: exception set, no new traceback entry
 * On error, a helper has consumed its inputs (or left them on the stack, as
 * the interpreter does for that opcode); the translator's table says which,
 * so the unwinder knows the stack depth statically.
 */
#ifndef PYJION_OPS_H
#define PYJION_OPS_H
#include "cpython311.h"

/* Helpers that may hand compiled code a callee to run itself (CALL; SEND
 * and FOR_ITER on a generator) have the shape
 *
 *     void *pyj_op_NAME(PyjFrame *frame, PyObject **sp, int oparg,
 *                       PyObject *aux, PyjFrame **callee)
 *
 * and return either a status below, when they did the work, or the direct
 * entry point of compiled code (hook.h) whose frame is ready in *callee:
 * compiled code then runs entry(tstate, *callee, 0) and passes the result to
 * the matching finishing helper
 *
 *     int pyj_NAME_return(PyThreadState *ts, PyObject **sp, int oparg,
 *                         PyjFrame *callee, PyObject *result)
 *
 * which returns a status below too. */
#define PYJ_DIRECT_NEXT 0       /* done, fall through */
#define PYJ_DIRECT_BRANCH 1     /* done, take the branch */
#define PYJ_DIRECT_ERROR 2      /* exception set; a traceback entry is due */

/* Some of them also have leaf halves, called without a GC-mode switch and
 * so running no code: pyj_op_NAME_leaf, with the helper's arguments,
 * returns the callee's entry as the helper would, or NULL (nothing done:
 * the helper's turn) -- call_recorded's also PYJ_CALL_MADE (direct_call.h:
 * the call made, no callee to run); after the callee, pyj_NAME_return_leaf, with the
 * finishing helper's, returns PYJ_DIRECT_NEXT or PYJ_DIRECT_DECLINED
 * (nothing done: the finishing helper's turn). */
#define PYJ_DIRECT_DECLINED 3

/* UNPACK_SEQUENCE into locals (ops.c): at most this many items, and the
 * flag saying the helper takes the stack's reference to the sequence. */
#define PYJ_UNPACK_MAX 255
#define PYJ_UNPACK_OWNED 0x10000

typedef int (*pyj_op_fn)(PyjFrame *frame, PyObject **sp, int oparg, PyObject *aux);

typedef struct {
    const char *name;
    void *address;
} pyj_helper_entry;

int pyj_ops_init(void);

/* COPY_FREE_VARS: the closure's n cells into the frame's last n slots. */
void pyj_copy_free_vars(PyjFrame *f, int n);

/* NULL-terminated table of every helper the translator may call. */
extern const pyj_helper_entry pyj_helper_table[];

#endif
