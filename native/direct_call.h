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

/* The same call made by compiled code itself, through the callee's direct
 * entry point (hook.h): when func is compiled and the call is a plain
 * positional one, its frame is pushed, filled and linked, the recursion
 * depth counted, *callee set, and the direct entry returned; the caller
 * runs entry(ts, *callee, 0) and then calls pyj_call_finish_direct.
 * NULL, with nothing changed, otherwise. */
void *pyj_call_prepare_direct(PyThreadState *ts, PyFunctionObject *func,
                              PyObject **args, Py_ssize_t nargs, PyjFrame **callee);
/* Unlink, clear and pop a frame made by pyj_call_prepare_direct. */
void pyj_call_finish_direct(PyThreadState *ts, PyjFrame *callee);

#endif
