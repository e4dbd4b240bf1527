/* Generator, coroutine and async generator objects made without the
 * interpreter: the work of a generator function's RETURN_GENERATOR
 * (generator_new.c). */
#ifndef PYJION_GENERATOR_NEW_H
#define PYJION_GENERATOR_NEW_H
#include "cpython311.h"

/* Can calling code's function make its generator here, now?  Its code must
 * begin with RETURN_GENERATOR, or a closure's COPY_FREE_VARS and then
 * RETURN_GENERATOR (no cells to make first), with no tracing or profiling to report the call, no coroutine origin
 * tracking, and recursion budget left (the interpreter raises
 * RecursionError on entering the frame). */
int pyj_generator_makeable(PyThreadState *ts, PyCodeObject *code);

/* The generator for func(args...), a plain call (direct_call.h's
 * pyj_arguments_fit; kwnames names the last arguments, or NULL): its frame
 * is filled in place, the argument references moved in.  NULL with an
 * exception (allocation failed; the arguments are released then). */
PyObject *pyj_generator_for_call(PyFunctionObject *func, PyObject **args, Py_ssize_t nargs,
                                 PyObject *kwnames);

/* The generator for `frame`, pushed and filled by the caller and about to
 * run its RETURN_GENERATOR: the frame is copied into the generator and left
 * as the interpreter leaves it, for the caller to clear and pop.  NULL with
 * an exception if allocation failed (frame unchanged). */
PyObject *pyj_generator_from_frame(PyjFrame *frame);

#endif
