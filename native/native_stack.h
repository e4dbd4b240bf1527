/* How much of the thread's machine stack is left.
 *
 * The interpreter runs a Python-to-Python call without recursing in C, but
 * with a frame hook installed every call recurses: through the hook, and
 * through compiled methods calling each other.  A program that raises the
 * recursion limit and recurses deeply would overflow the machine stack and
 * crash; instead, a call made with less than a safety margin left raises
 * RecursionError, as CPython does when its own C recursion runs out.
 */
#ifndef PYJION_NATIVE_STACK_H
#define PYJION_NATIVE_STACK_H
#include "cpython311.h"

/* Lowest address a call may start below the margin; NULL until this thread
 * has asked.  Initial-exec TLS: one load, no __tls_get_addr call. */
extern __thread char *pyj_stack_floor __attribute__((tls_model("initial-exec")));

char *pyj_stack_floor_compute(void);

static inline int pyj_native_stack_low(void) {
    char *floor = pyj_stack_floor;
    if (floor == NULL) {
        floor = pyj_stack_floor_compute();
    }
    return (char *)__builtin_frame_address(0) < floor;
}

/* Sets RecursionError; returns NULL for the caller to return. */
PyObject *pyj_native_stack_exhausted(void);

#endif
