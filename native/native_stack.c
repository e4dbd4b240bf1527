/* Machine-stack bounds per thread (see native_stack.h). */
#define _GNU_SOURCE
#include <pthread.h>
#include "native_stack.h"

__thread char *pyj_stack_floor __attribute__((tls_model("initial-exec")));

/* Room kept free below the floor: the deepest compiled method frame and the
 * C code a call runs before it checks again (an error path, a repr) fit
 * well inside it. */
#define MARGIN_BYTES (512 * 1024)

char *
pyj_stack_floor_compute(void)
{
    pthread_attr_t attr;
    void *low = NULL;
    size_t size = 0;
    char *here = (char *)__builtin_frame_address(0);
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        if (pthread_attr_getstack(&attr, &low, &size) != 0) {
            low = NULL;
        }
        pthread_attr_destroy(&attr);
    }
    if (low == NULL || size == 0 || here < (char *)low || here > (char *)low + size) {
        /* unknown bounds: assume 1 MB below the current frame */
        low = here - 1024 * 1024;
        size = 1024 * 1024;
    }
    size_t margin = size / 4 < MARGIN_BYTES ? size / 4 : MARGIN_BYTES;
    pyj_stack_floor = (char *)low + margin;
    return pyj_stack_floor;
}

PyObject *
pyj_native_stack_exhausted(void)
{
    PyErr_SetString(PyExc_RecursionError,
                    "maximum recursion depth exceeded (the machine stack is nearly full)");
    return NULL;
}
