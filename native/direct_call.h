/* Calls from compiled code to plain Python functions that skip the
 * vectorcall machinery (direct_call.c). */
#ifndef PYJION_DIRECT_CALL_H
#define PYJION_DIRECT_CALL_H
#include "cpython311.h"

/* Call func with args[0..nargs) when it is a plain positional call: the
 * argument references move into the callee's frame.  Sets *handled to 0,
 * and does nothing else, for any call it leaves to vectorcall. */
PyObject *pyj_call_function_directly(PyThreadState *ts, PyFunctionObject *func,
                                     PyObject **args, Py_ssize_t nargs, int *handled);

#endif
