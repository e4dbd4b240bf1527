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

/* What pyj_op_call returns when it made the call itself (anything else is
 * a direct entry point to run). */
#define PYJ_CALL_DONE 0
#define PYJ_CALL_FAILED 1

typedef int (*pyj_op_fn)(PyjFrame *frame, PyObject **sp, int oparg, PyObject *aux);

typedef struct {
    const char *name;
    void *address;
} pyj_helper_entry;

int pyj_ops_init(void);

/* NULL-terminated table of every helper the translator may call. */
extern const pyj_helper_entry pyj_helper_table[];

#endif
