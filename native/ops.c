/* Runtime helpers for compiled code: the slow paths of each opcode.
 * See ops.h for the calling convention.  Helpers are grouped by the opcode
 * family they implement; inline IL handles the fast paths (locals, constants,
 * reference counts, stack shuffles, jumps on exact booleans).
 */
#include "ops.h"
#include "gen_ops.h"
#include "site_cache.h"
#include "direct_call.h"

#define POP() (*--sp)
#define TOP() (sp[-1])
#define PEEK(n) (sp[-(n)])

#define NAME_ERROR_MSG "name '%.200s' is not defined"
#define UNBOUNDLOCAL_ERROR_MSG \
    "cannot access local variable '%s' where it is not associated with a value"
#define UNBOUNDFREE_ERROR_MSG \
    "cannot access free variable '%s' where it is not associated with a value in enclosing scope"

/* Interned names the helpers look up (not all of them have a _Py_ID). */
static PyObject *s__name__, *s__file__, *s__annotations__, *s__match_args__;
static PyObject *s__enter__, *s__exit__, *s__import__, *s__build_class__;
static PyObject *s__all__, *s__dict__, *s__aenter__, *s__aexit__;

static int init_leaf_predicate(void);

int
pyj_ops_init(void)
{
#define INTERN(var, text) \
    if (var == NULL && (var = PyUnicode_InternFromString(text)) == NULL) return -1;
    INTERN(s__name__, "__name__");
    INTERN(s__file__, "__file__");
    INTERN(s__annotations__, "__annotations__");
    INTERN(s__match_args__, "__match_args__");
    INTERN(s__enter__, "__enter__");
    INTERN(s__exit__, "__exit__");
    INTERN(s__import__, "__import__");
    INTERN(s__build_class__, "__build_class__");
    INTERN(s__all__, "__all__");
    INTERN(s__dict__, "__dict__");
    INTERN(s__aenter__, "__aenter__");
    INTERN(s__aexit__, "__aexit__");
#undef INTERN
    return init_leaf_predicate();
}

static PyObject *
co_name_at(PyjFrame *f, int i)
{
    return PyTuple_GET_ITEM(f->f_code->co_names, i);
}

/* ---------------------------------------------------------------- errors */

static void
format_exc_check_arg(PyObject *exc, const char *fmt, PyObject *name)
{
    if (name == NULL) {
        return;
    }
    const char *s = PyUnicode_AsUTF8(name);
    if (s == NULL) {
        return;
    }
    PyErr_Format(exc, fmt, s);
    if (exc == PyExc_NameError) {
        /* The traceback printer uses .name to suggest similar names. */
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        if (PyErr_GivenExceptionMatches(value, PyExc_NameError)) {
            PyNameErrorObject *ne = (PyNameErrorObject *)value;
            if (ne->name == NULL) {
                Py_INCREF(name);
                ne->name = name;
            }
        }
        PyErr_Restore(type, value, tb);
    }
}

static void
format_exc_unbound(PyjFrame *f, int oparg)
{
    if (PyErr_Occurred()) {
        return;
    }
    PyCodeObject *co = f->f_code;
    PyObject *name = PyTuple_GET_ITEM(co->co_localsplusnames, oparg);
    if (oparg < co->co_nplaincellvars + co->co_nlocals) {
        format_exc_check_arg(PyExc_UnboundLocalError, UNBOUNDLOCAL_ERROR_MSG, name);
    }
    else {
        format_exc_check_arg(PyExc_NameError, UNBOUNDFREE_ERROR_MSG, name);
    }
}

/* Raised by compiled code when LOAD_FAST / DELETE_FAST finds an empty slot. */
static int
pyj_op_unbound_local(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    format_exc_check_arg(PyExc_UnboundLocalError, UNBOUNDLOCAL_ERROR_MSG,
                         PyTuple_GetItem(f->f_code->co_localsplusnames, oparg));
    return -1;
}

/* -------------------------------------------------- frame entry and exit */

/* Called when an error reaches a handler in the exception table: record the
 * traceback entry, drop stack values above the handler's level, push lasti
 * if asked, then push the normalised exception. */
int
pyj_enter_handler(PyjFrame *f, int status, int depth, int level, int push_lasti)
{
    PyObject **base = f->localsplus + f->f_code->co_nlocalsplus;
    if (status != -2) {
        PyFrameObject *fo = PyEval_GetFrame();
        if (fo != NULL) {
            PyTraceBack_Here(fo);
        }
    }
    while (depth > level) {
        depth--;
        Py_XDECREF(base[depth]);
        base[depth] = NULL;
    }
    if (push_lasti) {
        PyObject *lasti = PyLong_FromLong((long)_PyInterpreterFrame_LASTI(f));
        if (lasti == NULL) {
            return -1;
        }
        base[depth++] = lasti;
    }
    PyObject *exc, *val, *tb;
    PyErr_Fetch(&exc, &val, &tb);
    PyErr_NormalizeException(&exc, &val, &tb);
    PyException_SetTraceback(val, tb != NULL ? tb : Py_None);
    Py_XDECREF(tb);
    Py_XDECREF(exc);
    base[depth] = val;
    return 0;
}

/* Called when an error leaves the function: record the traceback entry and
 * drop every stack value; the caller returns NULL. */
void
pyj_exit_with_error(PyjFrame *f, int status, int depth)
{
    PyObject **base = f->localsplus + f->f_code->co_nlocalsplus;
    if (status != -2) {
        PyFrameObject *fo = PyEval_GetFrame();
        if (fo != NULL) {
            PyTraceBack_Here(fo);
        }
    }
    while (depth > 0) {
        depth--;
        Py_XDECREF(base[depth]);
        base[depth] = NULL;
    }
}

/* Polled on loop back edges and at RESUME when the eval breaker is set. */
int
pyj_eval_breaker(PyjFrame *f)
{
    return pyj_handle_eval_breaker(_PyThreadState_GET());
}

/* ------------------------------------------------------ cells and frees */

static int
pyj_op_make_cell(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *initial = f->localsplus[oparg];
    PyObject *cell = PyCell_New(initial);
    if (cell == NULL) {
        return -1;
    }
    f->localsplus[oparg] = cell;
    Py_XDECREF(initial);
    return 0;
}

void
pyj_copy_free_vars(PyjFrame *f, int n)
{
    PyObject *closure = f->f_func->func_closure;
    int offset = f->f_code->co_nlocalsplus - n;
    for (int i = 0; i < n; i++) {
        PyObject *o = PyTuple_GET_ITEM(closure, i);
        Py_INCREF(o);
        f->localsplus[offset + i] = o;
    }
}

static int
pyj_op_load_deref(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *value = PyCell_GET(f->localsplus[oparg]);
    if (value == NULL) {
        format_exc_unbound(f, oparg);
        return -1;
    }
    Py_INCREF(value);
    sp[0] = value;
    return 0;
}

static int
pyj_op_store_deref(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *v = POP();
    PyObject *cell = f->localsplus[oparg];
    PyObject *old = PyCell_GET(cell);
    PyCell_SET(cell, v);
    Py_XDECREF(old);
    return 0;
}

static int
pyj_op_delete_deref(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *cell = f->localsplus[oparg];
    PyObject *old = PyCell_GET(cell);
    if (old == NULL) {
        format_exc_unbound(f, oparg);
        return -1;
    }
    PyCell_SET(cell, NULL);
    Py_DECREF(old);
    return 0;
}

static int
pyj_op_load_classderef(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *locals = f->f_locals;
    PyObject *name = PyTuple_GET_ITEM(f->f_code->co_localsplusnames, oparg);
    PyObject *value = NULL;
    if (PyDict_CheckExact(locals)) {
        value = PyDict_GetItemWithError(locals, name);
        if (value != NULL) {
            Py_INCREF(value);
        }
        else if (PyErr_Occurred()) {
            return -1;
        }
    }
    else {
        value = PyObject_GetItem(locals, name);
        if (value == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_KeyError)) {
                return -1;
            }
            PyErr_Clear();
        }
    }
    if (value == NULL) {
        value = PyCell_GET(f->localsplus[oparg]);
        if (value == NULL) {
            format_exc_unbound(f, oparg);
            return -1;
        }
        Py_INCREF(value);
    }
    sp[0] = value;
    return 0;
}

/* --------------------------------------------------- globals and names */

/* Builtins lookup shared by LOAD_GLOBAL and LOAD_NAME: NameError when missing. */
static PyObject *
lookup_builtin(PyjFrame *f, PyObject *name)
{
    PyObject *v;
    if (PyDict_CheckExact(f->f_builtins)) {
        v = PyDict_GetItemWithError(f->f_builtins, name);
        if (v == NULL) {
            if (!PyErr_Occurred()) {
                format_exc_check_arg(PyExc_NameError, NAME_ERROR_MSG, name);
            }
            return NULL;
        }
        return Py_NewRef(v);
    }
    v = PyObject_GetItem(f->f_builtins, name);
    if (v == NULL && PyErr_ExceptionMatches(PyExc_KeyError)) {
        PyErr_Clear();
        format_exc_check_arg(PyExc_NameError, NAME_ERROR_MSG, name);
    }
    return v;
}

/* LOAD_NAME's view of globals: a dict lookup, whatever the dict's type. */
static PyObject *
lookup_global_for_name(PyjFrame *f, PyObject *name)
{
    PyObject *v = PyDict_GetItemWithError(f->f_globals, name);
    if (v != NULL) {
        return Py_NewRef(v);
    }
    if (PyErr_Occurred()) {
        return NULL;
    }
    return lookup_builtin(f, name);
}

/* LOAD_GLOBAL's: a subclass of dict (say, with __missing__) is asked with
 * PyObject_GetItem, as the interpreter does. */
PyObject *
pyj_lookup_global(PyjFrame *f, PyObject *name)
{
    if (PyDict_CheckExact(f->f_globals) && PyDict_CheckExact(f->f_builtins)) {
        return lookup_global_for_name(f, name);
    }
    PyObject *v = PyObject_GetItem(f->f_globals, name);
    if (v != NULL) {
        return v;
    }
    if (!PyErr_ExceptionMatches(PyExc_KeyError)) {
        return NULL;
    }
    PyErr_Clear();
    return lookup_builtin(f, name);
}

static int
pyj_op_store_global(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *v = POP();
    int err = PyDict_SetItem(f->f_globals, co_name_at(f, oparg), v);
    Py_DECREF(v);
    return err;
}

static int
pyj_op_delete_global(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *name = co_name_at(f, oparg);
    if (PyDict_DelItem(f->f_globals, name) != 0) {
        if (PyErr_ExceptionMatches(PyExc_KeyError)) {
            PyErr_Clear();
            format_exc_check_arg(PyExc_NameError, NAME_ERROR_MSG, name);
        }
        return -1;
    }
    return 0;
}

static int
pyj_op_load_name(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *name = co_name_at(f, oparg);
    PyObject *locals = f->f_locals;
    PyObject *v;
    if (locals == NULL) {
        PyErr_Format(PyExc_SystemError, "no locals when loading %R", name);
        return -1;
    }
    if (PyDict_CheckExact(locals)) {
        v = PyDict_GetItemWithError(locals, name);
        if (v != NULL) {
            Py_INCREF(v);
        }
        else if (PyErr_Occurred()) {
            return -1;
        }
    }
    else {
        v = PyObject_GetItem(locals, name);
        if (v == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_KeyError)) {
                return -1;
            }
            PyErr_Clear();
        }
    }
    if (v == NULL) {
        v = lookup_global_for_name(f, name);
        if (v == NULL) {
            return -1;
        }
    }
    sp[0] = v;
    return 0;
}

static int
pyj_op_store_name(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *name = co_name_at(f, oparg);
    PyObject *v = POP();
    PyObject *ns = f->f_locals;
    int err;
    if (ns == NULL) {
        PyErr_Format(PyExc_SystemError, "no locals found when storing %R", name);
        Py_DECREF(v);
        return -1;
    }
    if (PyDict_CheckExact(ns)) {
        err = PyDict_SetItem(ns, name, v);
    }
    else {
        err = PyObject_SetItem(ns, name, v);
    }
    Py_DECREF(v);
    return err;
}

static int
pyj_op_delete_name(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *name = co_name_at(f, oparg);
    PyObject *ns = f->f_locals;
    if (ns == NULL) {
        PyErr_Format(PyExc_SystemError, "no locals when deleting %R", name);
        return -1;
    }
    if (PyObject_DelItem(ns, name) != 0) {
        format_exc_check_arg(PyExc_NameError, NAME_ERROR_MSG, name);
        return -1;
    }
    return 0;
}

static int
pyj_op_load_build_class(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *name = s__build_class__;
    PyObject *bc;
    if (PyDict_CheckExact(f->f_builtins)) {
        bc = PyDict_GetItemWithError(f->f_builtins, name);
        Py_XINCREF(bc);
        if (bc == NULL && !PyErr_Occurred()) {
            PyErr_SetString(PyExc_NameError, "__build_class__ not found");
        }
    }
    else {
        bc = PyObject_GetItem(f->f_builtins, name);
        if (bc == NULL && PyErr_ExceptionMatches(PyExc_KeyError)) {
            PyErr_SetString(PyExc_NameError, "__build_class__ not found");
        }
    }
    if (bc == NULL) {
        return -1;
    }
    sp[0] = bc;
    return 0;
}

/* ----------------------------------------------------------- attributes */

static int
pyj_op_delete_attr(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *owner = POP();
    int err = PyObject_SetAttr(owner, co_name_at(f, oparg), NULL);
    Py_DECREF(owner);
    return err;
}

/* ------------------------------------------------------------ subscripts */

static int
pyj_op_binary_subscr(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *sub = POP();
    PyObject *container = TOP();
    PyObject *res = PyObject_GetItem(container, sub);
    Py_DECREF(container);
    Py_DECREF(sub);
    TOP() = res;
    return res == NULL ? -1 : 0;
}

/* BINARY_SUBSCR in two parts (ops.h), where the container's class has a
 * Python __getitem__ compiled code can run itself
 * (pyj_subscr_prepare_direct); pyj_op_binary_subscr otherwise. */
static void *
pyj_op_binary_subscr_direct(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux,
                            PyjFrame **callee)
{
    void *entry = pyj_subscr_prepare_direct(_PyThreadState_GET(), sp[-2], sp[-1], callee);
    if (entry != NULL) {
        return entry;
    }
    return (void *)(intptr_t)(pyj_op_binary_subscr(f, sp, oparg, aux) ? PYJ_DIRECT_ERROR
                                                                         : PYJ_DIRECT_NEXT);
}

/* The result of a two-operand operation in place of its operands, which
 * are released in the interpreter's order. */
static int
two_operand_result(PyObject **sp, PyObject *res)
{
    Py_DECREF(sp[-2]);
    Py_DECREF(sp[-1]);
    sp[-2] = res;
    return res == NULL ? PYJ_DIRECT_ERROR : PYJ_DIRECT_NEXT;
}

static int
pyj_binary_subscr_direct_return(PyThreadState *ts, PyObject **sp, int oparg, PyjFrame *callee,
                                PyObject *res)
{
    pyj_call_finish_direct(ts, callee);
    return two_operand_result(sp, res);
}

static int
pyj_op_store_subscr(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *sub = POP();
    PyObject *container = POP();
    PyObject *v = POP();
    int err = PyObject_SetItem(container, sub, v);
    Py_DECREF(v);
    Py_DECREF(container);
    Py_DECREF(sub);
    return err;
}

static int
pyj_op_delete_subscr(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *sub = POP();
    PyObject *container = POP();
    int err = PyObject_DelItem(container, sub);
    Py_DECREF(container);
    Py_DECREF(sub);
    return err;
}

/* ------------------------------------------------------------- operators */

typedef PyObject *(*binaryfn)(PyObject *, PyObject *);

static const binaryfn binary_ops[] = {
    [NB_ADD] = PyNumber_Add,
    [NB_AND] = PyNumber_And,
    [NB_FLOOR_DIVIDE] = PyNumber_FloorDivide,
    [NB_LSHIFT] = PyNumber_Lshift,
    [NB_MATRIX_MULTIPLY] = PyNumber_MatrixMultiply,
    [NB_MULTIPLY] = PyNumber_Multiply,
    [NB_REMAINDER] = PyNumber_Remainder,
    [NB_OR] = PyNumber_Or,
    [NB_POWER] = NULL,
    [NB_RSHIFT] = PyNumber_Rshift,
    [NB_SUBTRACT] = PyNumber_Subtract,
    [NB_TRUE_DIVIDE] = PyNumber_TrueDivide,
    [NB_XOR] = PyNumber_Xor,
    [NB_INPLACE_ADD] = PyNumber_InPlaceAdd,
    [NB_INPLACE_AND] = PyNumber_InPlaceAnd,
    [NB_INPLACE_FLOOR_DIVIDE] = PyNumber_InPlaceFloorDivide,
    [NB_INPLACE_LSHIFT] = PyNumber_InPlaceLshift,
    [NB_INPLACE_MATRIX_MULTIPLY] = PyNumber_InPlaceMatrixMultiply,
    [NB_INPLACE_MULTIPLY] = PyNumber_InPlaceMultiply,
    [NB_INPLACE_REMAINDER] = PyNumber_InPlaceRemainder,
    [NB_INPLACE_OR] = PyNumber_InPlaceOr,
    [NB_INPLACE_POWER] = NULL,
    [NB_INPLACE_RSHIFT] = PyNumber_InPlaceRshift,
    [NB_INPLACE_SUBTRACT] = PyNumber_InPlaceSubtract,
    [NB_INPLACE_TRUE_DIVIDE] = PyNumber_InPlaceTrueDivide,
    [NB_INPLACE_XOR] = PyNumber_InPlaceXor,
};

static int
pyj_op_binary_op(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *rhs = POP();
    PyObject *lhs = TOP();
    PyObject *res;
    if (oparg == NB_POWER) {
        res = PyNumber_Power(lhs, rhs, Py_None);
    }
    else if (oparg == NB_INPLACE_POWER) {
        res = PyNumber_InPlacePower(lhs, rhs, Py_None);
    }
    else {
        res = binary_ops[oparg](lhs, rhs);
    }
    Py_DECREF(lhs);
    Py_DECREF(rhs);
    TOP() = res;
    return res == NULL ? -1 : 0;
}

/* BINARY_OP in two parts (ops.h), for a dunder compiled code can run
 * itself (pyj_binary_prepare_direct); pyj_op_binary_op otherwise. */
static void *
pyj_op_binary_op_direct(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux, PyjFrame **callee)
{
    void *entry = pyj_binary_prepare_direct(_PyThreadState_GET(), sp[-2], sp[-1], oparg, callee);
    if (entry != NULL) {
        return entry;
    }
    return (void *)(intptr_t)(pyj_op_binary_op(f, sp, oparg, aux) ? PYJ_DIRECT_ERROR : PYJ_DIRECT_NEXT);
}

static int
pyj_binary_op_direct_return(PyThreadState *ts, PyObject **sp, int oparg, PyjFrame *callee,
                            PyObject *res)
{
    res = pyj_binary_finish_direct(ts, callee, sp[-2], sp[-1], oparg, res);
    return two_operand_result(sp, res);
}

/* UNARY_POSITIVE / NEGATIVE / INVERT: aux is the PyNumber_* function. */
static int
pyj_op_unary(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    unaryfunc fn = (unaryfunc)(void *)aux;
    PyObject *v = TOP();
    PyObject *res = fn(v);
    Py_DECREF(v);
    TOP() = res;
    return res == NULL ? -1 : 0;
}

static int
pyj_op_unary_not(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *v = TOP();
    int err = PyObject_IsTrue(v);
    Py_DECREF(v);
    if (err < 0) {
        TOP() = NULL;
        return -1;
    }
    TOP() = Py_NewRef(err ? Py_False : Py_True);
    return 0;
}

/* == or != of two objects whose classes compare as object does (no
 * __eq__ or __ne__ of their own: deltablue's constraints, an Enum's
 * members): each side's object_richcompare answers NotImplemented unless
 * they are one object, and then the protocol falls back to identity --
 * which is the answer, without the calls. */
static int
compares_by_identity(PyObject *left, PyObject *right, int op)
{
    richcmpfunc object_compare = PyBaseObject_Type.tp_richcompare;
    return (op == Py_EQ || op == Py_NE) && Py_TYPE(left)->tp_richcompare == object_compare
           && Py_TYPE(right)->tp_richcompare == object_compare;
}

static int
pyj_op_compare_op(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *right = POP();
    PyObject *left = TOP();
    PyObject *res = compares_by_identity(left, right, oparg)
                    ? Py_NewRef((left == right) == (oparg == Py_EQ) ? Py_True : Py_False)
                    : PyObject_RichCompare(left, right, oparg);
    Py_DECREF(left);
    Py_DECREF(right);
    TOP() = res;
    return res == NULL ? -1 : 0;
}

static int
pyj_op_contains_op(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *right = POP();
    PyObject *left = TOP();
    int res = PySequence_Contains(right, left);
    Py_DECREF(left);
    Py_DECREF(right);
    if (res < 0) {
        TOP() = NULL;
        return -1;
    }
    TOP() = Py_NewRef((res ^ oparg) ? Py_True : Py_False);
    return 0;
}

/* Truth test that consumes TOS: 1 if true, 0 if false.  Used by the
 * conditional jumps once the inline True/False/None checks have failed. */
static int
pyj_op_pop_truth(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *v = POP();
    int res = PyObject_IsTrue(v);
    Py_DECREF(v);
    return res;
}

/* Truth test that leaves TOS in place (JUMP_IF_*_OR_POP). */
static int
pyj_op_peek_truth(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    return PyObject_IsTrue(TOP());
}

/* ------------------------------------------------------------- iteration */

static int
pyj_op_get_iter(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *iterable = TOP();
    PyObject *iter = PyObject_GetIter(iterable);
    Py_DECREF(iterable);
    TOP() = iter;
    return iter == NULL ? -1 : 0;
}

/* The iterators of range(...) and reversed(range(...)) made for the
 * GET_ITER after the call (FastPaths.iterator_call), as range_iter and
 * range_reverse make them, for bounds that are exact ints of at most two
 * digits (so nothing computed from them overflows a long, and those make
 * this same fast iterator) and a step other than zero.  `call` points at
 * the callable (which the caller checked) and its nargs arguments; all
 * are consumed and the iterator returned.  Anything else: NULL, nothing
 * done (the call is then made as usual, raising what it raises).  Leaves:
 * they run no code (what they release are ints, a range, static types). */
static int
small_int(PyObject *v, long *value)
{
    if (!PyLong_CheckExact(v) || Py_ABS(Py_SIZE(v)) > 2) {
        return 0;
    }
    *value = PyLong_AsLong(v);
    return 1;
}

/* The number of items of range(start, stop, step), step != 0 */
static long
range_length(long start, long stop, long step)
{
    if (step > 0) {
        return start < stop ? 1 + (stop - 1 - start) / step : 0;
    }
    return start > stop ? 1 + (start - 1 - stop) / -step : 0;
}

static PyObject *
range_iterator_taking(PyObject **call, int nargs, long start, long step, long len)
{
    pyj_rangeiter *it = PyObject_New(pyj_rangeiter, &PyRangeIter_Type);
    if (it == NULL) {
        PyErr_Clear();                      /* the call will meet it again */
        return NULL;
    }
    it->index = 0;
    it->start = start;
    it->step = step;
    it->len = len;
    for (int i = 0; i <= nargs; i++) {
        Py_DECREF(call[i]);
    }
    return (PyObject *)it;
}

static PyObject *
pyj_range_iterator(PyObject **call, int nargs)
{
    long bounds[3] = {0, 0, 1};             /* start, stop, step */
    int first = nargs == 1 ? 1 : 0;         /* range(stop) */
    for (int i = 0; i < nargs; i++) {
        if (!small_int(call[1 + i], &bounds[first + i])) {
            return NULL;
        }
    }
    long start = bounds[0], stop = bounds[1], step = bounds[2];
    if (step == 0) {
        return NULL;
    }
    return range_iterator_taking(call, nargs, start, step, range_length(start, stop, step));
}

/* reversed(r) of an exact range: from its last item down (range_reverse's
 * start, (start - step) + len * step, even where r is empty) */
static PyObject *
pyj_reversed_range_iterator(PyObject **call, int nargs)
{
    long start, stop, step;
    pyj_range *r = (pyj_range *)call[1];
    if (nargs != 1 || !Py_IS_TYPE(call[1], &PyRange_Type) || !small_int(r->start, &start)
            || !small_int(r->stop, &stop) || !small_int(r->step, &step)) {
        return NULL;
    }
    long len = range_length(start, stop, step);
    return range_iterator_taking(call, nargs, (start - step) + len * step, -step, len);
}

/* The exhausted iterator popped, the loop left (the jump). */
static int
for_iter_exhausted(PyObject **sp)
{
    PyObject *iter = TOP();
    sp[-1] = NULL;
    Py_DECREF(iter);
    return PYJ_DIRECT_BRANCH;
}

/* FOR_ITER's leaf half (ops.h): a compiled generator resumed to its next
 * yield (next(gen) sends None), or NULL. */
static void *
pyj_op_for_iter_leaf(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux, PyjFrame **callee)
{
    PyObject *iter = TOP();
    if (!PyGen_CheckExact(iter)) {
        return NULL;
    }
    void *entry = pyj_gen_prepare_direct(_PyThreadState_GET(), iter, Py_None, callee);
    if (entry != NULL) {
        Py_INCREF(Py_None);             /* on the generator's stack */
    }
    return entry;
}

/* FOR_ITER's generic path, in two parts (see ops.h): a compiled generator
 * is resumed by compiled code itself, pyj_for_iter_return following. */
static void *
pyj_op_for_iter(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux, PyjFrame **callee)
{
    void *entry = pyj_op_for_iter_leaf(f, sp, oparg, aux, callee);
    if (entry != NULL) {
        return entry;
    }
    PyObject *iter = TOP();
    PyObject *next = (*Py_TYPE(iter)->tp_iternext)(iter);
    if (next != NULL) {
        sp[0] = next;
        return (void *)(intptr_t)PYJ_DIRECT_NEXT;
    }
    if (PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_StopIteration)) {
            return (void *)(intptr_t)PYJ_DIRECT_ERROR;
        }
        PyErr_Clear();
    }
    return (void *)(intptr_t)for_iter_exhausted(sp);
}

/* ... and its finishing leaf half, after a yield. */
static int
pyj_for_iter_return_leaf(PyThreadState *ts, PyObject **sp, int oparg, PyjFrame *callee,
                         PyObject *res)
{
    if (!pyj_gen_finish_yield(ts, callee, res)) {
        return PYJ_DIRECT_DECLINED;
    }
    sp[0] = res;
    return PYJ_DIRECT_NEXT;
}

static int
pyj_for_iter_return(PyThreadState *ts, PyObject **sp, int oparg, PyjFrame *callee, PyObject *res)
{
    PyObject *value;
    switch (pyj_gen_finish_direct(ts, callee, res, &value)) {
    case PYGEN_NEXT:
        sp[0] = value;
        return PYJ_DIRECT_NEXT;
    case PYGEN_RETURN:
        /* what it returned would only ride on StopIteration: dropped */
        Py_DECREF(value);
        return for_iter_exhausted(sp);
    default:
        return PYJ_DIRECT_ERROR;
    }
}

/* set(g), tuple(g), any(g) and all(g) of a generator g whose items
 * compiled code takes itself, by FOR_ITER's helpers, so that a compiled
 * generator is resumed without leaving the runtime at every item
 * (FastPaths.consume_generator).  oparg is the builtin, as these kinds. */
enum { CONSUME_SET, CONSUME_TUPLE, CONSUME_ANY, CONSUME_ALL };

/* [NULL, builtin, g] -> [accumulator, g, NULL]: a new set, or the list a
 * tuple is made from (NULL for any and all).  -1, nothing changed, if it
 * could not be made. */
static int
pyj_op_consume_begin(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *accumulator = NULL;
    if (oparg == CONSUME_SET || oparg == CONSUME_TUPLE) {
        accumulator = oparg == CONSUME_SET ? PySet_New(NULL) : PyList_New(0);
        if (accumulator == NULL) {
            return -1;
        }
    }
    PyObject *builtin = sp[-2];
    sp[-3] = accumulator;
    sp[-2] = sp[-1];
    sp[-1] = NULL;
    Py_DECREF(builtin);
    return 0;
}

/* [accumulator, g, item]: the item added (released, as set_update_internal
 * and PySequence_Tuple do), or tested as builtin_any and builtin_all do.
 * 0: go on; 1: any or all decided; -1: an error. */
static int
pyj_op_consume_item(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *item = sp[-1];
    sp[-1] = NULL;
    int res;
    if (oparg == CONSUME_SET) {
        res = PySet_Add(sp[-3], item);
    }
    else if (oparg == CONSUME_TUPLE) {
        res = PyList_Append(sp[-3], item);
    }
    else {
        int truth = PyObject_IsTrue(item);
        res = truth < 0 ? -1 : truth == (oparg == CONSUME_ANY);
    }
    Py_DECREF(item);
    return res;
}

/* [accumulator, g or NULL (exhausted)] -> [result]: the set, the tuple,
 * or True or False; g, if any and all stopped early, released. */
static int
pyj_op_consume_end(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *accumulator = sp[-3];
    PyObject *gen = sp[-2];
    PyObject *res;
    if (oparg == CONSUME_SET) {
        res = accumulator;
    }
    else if (oparg == CONSUME_TUPLE) {
        res = PyList_AsTuple(accumulator);
        Py_DECREF(accumulator);
    }
    else {
        /* any: decided (g not exhausted) by a true item; all: by a false one */
        res = Py_NewRef((gen != NULL) == (oparg == CONSUME_ANY) ? Py_True : Py_False);
    }
    sp[-3] = res;
    sp[-2] = NULL;
    if (gen != NULL) {
        pyj_gen_close_quietly(_PyThreadState_GET(), gen);
        Py_DECREF(gen);
    }
    return res == NULL ? -1 : 0;
}

/* ----------------------------------------------------------------- calls */

/* callable(args...) made as the interpreter's specialised PRECALLs make
 * it, calling the C function itself: a builtin function, or a method
 * descriptor applied to an instance of its exact type, taking METH_O,
 * METH_NOARGS or METH_FASTCALL arguments.  Code compiled at its first call
 * (it has a loop) has no feedback to specialise such calls in the IL.
 * Returns 0, *res left alone, for any other call (vectorcall's). */
static int
call_c_function(PyObject *callable, PyObject **args, Py_ssize_t nargs, PyObject **res)
{
    PyMethodDef *def;
    PyObject *self;
    if (Py_IS_TYPE(callable, &PyCFunction_Type)) {
        def = ((PyCFunctionObject *)callable)->m_ml;
        self = PyCFunction_GET_SELF(callable);
    }
    else if (Py_IS_TYPE(callable, &PyMethodDescr_Type) && nargs >= 1
             && Py_IS_TYPE(args[0], ((PyMethodDescrObject *)callable)->d_common.d_type)) {
        def = ((PyMethodDescrObject *)callable)->d_method;
        self = args[0];
        args++;
        nargs--;
    }
    else {
        return 0;
    }
    int convention = def->ml_flags & (METH_VARARGS | METH_FASTCALL | METH_NOARGS | METH_O | METH_KEYWORDS);
    if (!(convention == METH_FASTCALL || (convention == METH_O && nargs == 1)
          || (convention == METH_NOARGS && nargs == 0))) {
        return 0;
    }
    PyThreadState *ts = _PyThreadState_GET();
    if (_Py_EnterRecursiveCallTstate(ts, " while calling a Python object")) {
        *res = NULL;
        return 1;
    }
    if (convention == METH_FASTCALL) {
        *res = ((_PyCFunctionFast)(void (*)(void))def->ml_meth)(self, args, nargs);
    }
    else {
        *res = def->ml_meth(self, convention == METH_O ? args[0] : NULL);
    }
    _Py_LeaveRecursiveCallTstate(ts);
    /* as vectorcall does: a result with an exception set, or NULL without
     * one, from a faulty extension becomes a SystemError */
    *res = _Py_CheckFunctionResult(ts, callable, *res, NULL);
    return 1;
}

/* A class called, [NULL, class, args...]: making the instance failed, the
 * exception set; the arguments are dropped, the class gives way to the
 * (missing) result. */
static void *
init_failed(PyObject **base, Py_ssize_t nargs)
{
    for (Py_ssize_t i = 0; i < nargs; i++) {
        Py_DECREF(base[2 + i]);
    }
    Py_DECREF(base[1]);
    base[0] = NULL;
    base[1] = NULL;
    return (void *)(intptr_t)PYJ_DIRECT_ERROR;
}

/* [NULL, bound method, args...] becomes [function, self, args...], as
 * PRECALL does it: 1 if so. */
static inline int
unwrap_bound_method(PyObject **base)
{
    if (base[0] != NULL || Py_TYPE(base[1]) != &PyMethod_Type) {
        return 0;
    }
    PyObject *bound = base[1];
    base[0] = Py_NewRef(PyMethod_GET_FUNCTION(bound));
    base[1] = Py_NewRef(PyMethod_GET_SELF(bound));
    Py_DECREF(bound);
    return 1;
}

/* CALL, in two parts (see ops.h): made here, or the callee's direct entry
 * returned for compiled code to run, pyj_call_return following.  A call
 * through a direct entry is recorded in `site` (if any). */
static void *
call(PyObject **sp, int oparg, PyObject *kwnames, PyjFrame **callee, pyj_call_site *site)
{
    PyObject **base = sp - oparg - 2;
    PyObject *callable;
    PyObject **args;
    Py_ssize_t nargs = oparg;
    if (base[0] != NULL || unwrap_bound_method(base)) {
        callable = base[0];
        args = base + 1;
        nargs += 1;
    }
    else {
        callable = base[1];
        args = base + 2;
    }
    PyObject *res;
    if (Py_IS_TYPE(callable, &PyFunction_Type)) {
        PyThreadState *ts = _PyThreadState_GET();
        void *entry = pyj_call_prepare_direct(ts, (PyFunctionObject *)callable, args, nargs,
                                              kwnames, callee);
        if (entry != NULL) {
            if (site != NULL) {
                pyj_call_site_record(site, *callee, nargs, 0);
            }
            return entry;           /* the caller runs it: pyj_call_return follows */
        }
        int handled;
        res = pyj_call_function_directly(ts, (PyFunctionObject *)callable, args, nargs, kwnames,
                                         &handled);
        if (handled) {
            /* the arguments moved into the callee's frame */
            goto done;
        }
    }
    else if (kwnames == NULL && Py_IS_TYPE(callable, &PyType_Type) && base[0] == NULL) {
        PyObject *error;
        void *entry = pyj_call_prepare_init(_PyThreadState_GET(), base, nargs, callee, &error);
        if (entry != NULL) {
            if (site != NULL) {
                pyj_call_site_record(site, *callee, nargs + 1,
                                     pyj_type_version((PyTypeObject *)base[0]));
            }
            return entry;           /* pyj_call_return sees the class in base[0] */
        }
        if (error != NULL) {
            return init_failed(base, nargs);
        }
    }
    if (kwnames != NULL || !call_c_function(callable, args, nargs, &res)) {
        Py_ssize_t npos = nargs - (kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0);
        res = PyObject_Vectorcall(callable, args, npos | PY_VECTORCALL_ARGUMENTS_OFFSET, kwnames);
    }
    for (Py_ssize_t i = 0; i < nargs; i++) {
        Py_DECREF(args[i]);
    }
done:
    Py_DECREF(callable);
    base[0] = res;
    base[1] = NULL;
    return (void *)(intptr_t)(res == NULL ? PYJ_DIRECT_ERROR : PYJ_DIRECT_NEXT);
}

static void *
pyj_op_call(PyjFrame *f, PyObject **sp, int oparg, PyObject *kwnames, PyjFrame **callee)
{
    return call(sp, oparg, kwnames, callee, NULL);
}

/* CALL without keywords at a site with a record (direct_call.h): the
 * callee it recorded is called again without looking it up, anything else
 * as by pyj_op_call; pyj_call_return follows either. */
static void *
pyj_op_call_recorded(PyjFrame *f, PyObject **sp, int oparg, PyObject *site, PyjFrame **callee)
{
    PyObject **base = sp - oparg - 2;
    PyObject *error;
    unwrap_bound_method(base);          /* super().method(...), for one */
    PyObject *callable = base[0] != NULL ? base[0] : base[1];
    if (!Py_IS_TYPE(callable, &PyFunction_Type) && !Py_IS_TYPE(callable, &PyType_Type)) {
        return call(sp, oparg, NULL, callee, NULL);     /* nothing to record */
    }
    void *entry = pyj_call_prepare_recorded(_PyThreadState_GET(), (pyj_call_site *)site, base,
                                            oparg, callee, &error);
    if (entry == PYJ_CALL_MADE) {
        return (void *)(intptr_t)PYJ_DIRECT_NEXT;
    }
    if (entry != NULL) {
        return entry;
    }
    if (error != NULL) {
        return init_failed(base, oparg);
    }
    return call(sp, oparg, NULL, callee, (pyj_call_site *)site);
}

/* CALL_RECORDED's leaf half (ops.h): a function or class the site
 * recorded, called the same way (a class only where making its instance
 * runs no code).  A bound method is unwrapped first unless it has weak
 * references: freeing it then runs no code. */
static __attribute__((flatten)) void *
pyj_op_call_recorded_leaf(PyjFrame *f, PyObject **sp, int oparg, PyObject *site,
                          PyjFrame **callee)
{
    PyObject **base = sp - oparg - 2;
    if (base[0] == NULL && Py_IS_TYPE(base[1], &PyType_Type)) {
        PyObject *error;
        return pyj_call_prepare_recorded_class(_PyThreadState_GET(), (pyj_call_site *)site, base,
                                               oparg, callee, &error, 1);
    }
    if (base[0] == NULL && Py_IS_TYPE(base[1], &PyMethod_Type)
        && ((PyMethodObject *)base[1])->im_weakreflist != NULL) {
        return NULL;
    }
    unwrap_bound_method(base);
    return pyj_call_prepare_recorded_function(_PyThreadState_GET(), (pyj_call_site *)site,
                                              base, oparg, callee);
}

/* The result in the call's place on the stack, the callable released. */
static inline int
call_result(PyObject **base, PyObject *res)
{
    base[0] = res;
    base[1] = NULL;
    return res == NULL ? PYJ_DIRECT_ERROR : PYJ_DIRECT_NEXT;
}

/* ... and its finishing leaf half: the function returned and releasing its
 * frame and the stack's reference to it runs no code; or a class's
 * __init__ returned None, and releasing its frame and the stack's
 * reference to the class runs none: the instance is the result. */
static __attribute__((flatten)) int
pyj_call_return_leaf(PyThreadState *ts, PyObject **sp, int oparg, PyjFrame *callee,
                     PyObject *res)
{
    PyObject **base = sp - oparg - 2;
    if (base[0] != NULL && PyType_Check(base[0])) {
        /* [class, instance] (pyj_call_return) */
        if (res != Py_None || Py_REFCNT(base[0]) <= 1 || !pyj_call_finish_direct_leaf(ts, callee, 0)) {
            return PYJ_DIRECT_DECLINED;
        }
        Py_DECREF(res);
        Py_DECREF(base[0]);
        base[0] = base[1];
        base[1] = NULL;
        return PYJ_DIRECT_NEXT;
    }
    if (res == NULL || !pyj_call_finish_direct_leaf(ts, callee, 1)) {
        return PYJ_DIRECT_DECLINED;
    }
    /* the function outlives this: finish_direct_leaf saw another reference */
    Py_DECREF(base[0] != NULL ? base[0] : base[1]);
    return call_result(base, res);
}

/* After compiled code ran the callee pyj_op_call handed it: the frame goes,
 * the result takes the call's place on the stack. */
static int
pyj_call_return(PyThreadState *ts, PyObject **sp, int oparg, PyjFrame *callee, PyObject *res)
{
    pyj_call_finish_direct(ts, callee);
    PyObject **base = sp - oparg - 2;
    if (base[0] != NULL && PyType_Check(base[0])) {
        /* a class called: [class, instance] after its __init__ ran */
        res = pyj_call_finish_init(base[1], res);
        Py_DECREF(base[0]);
    }
    else {
        Py_DECREF(base[0] != NULL ? base[0] : base[1]);
    }
    return call_result(base, res);
}

/* Compiled code calling a C function directly (as the interpreter's
 * specialised PRECALLs do) spent the last of the thread's recursion budget:
 * RecursionError (the budget given back), or the budget renewed after a
 * raised limit.  0: go on with the call. */
static int
pyj_recursion_exhausted(PyThreadState *ts)
{
    return _Py_CheckRecursiveCall(ts, " while calling a Python object");
}

static int
check_args_iterable(PyObject *func, PyObject *args)
{
    if (Py_TYPE(args)->tp_iter == NULL && !PySequence_Check(args)) {
        PyObject *funcstr = _PyObject_FunctionStr(func);
        if (funcstr != NULL) {
            PyErr_Format(PyExc_TypeError,
                         "%U argument after * must be an iterable, not %.200s",
                         funcstr, Py_TYPE(args)->tp_name);
            Py_DECREF(funcstr);
        }
        return -1;
    }
    return 0;
}

/* _PyDict_MergeEx reports a non-mapping as AttributeError ('keys') and a
 * duplicate key as KeyError((key,)); turn them into the call's TypeErrors. */
static void
format_kwargs_error(PyObject *func, PyObject *kwargs)
{
    if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
        PyErr_Clear();
        PyObject *funcstr = _PyObject_FunctionStr(func);
        if (funcstr != NULL) {
            PyErr_Format(PyExc_TypeError,
                         "%U argument after ** must be a mapping, not %.200s",
                         funcstr, Py_TYPE(kwargs)->tp_name);
            Py_DECREF(funcstr);
        }
    }
    else if (PyErr_ExceptionMatches(PyExc_KeyError)) {
        PyObject *type, *val, *tb;
        PyErr_Fetch(&type, &val, &tb);
        if (val && PyTuple_Check(val) && PyTuple_GET_SIZE(val) == 1) {
            PyObject *funcstr = _PyObject_FunctionStr(func);
            if (funcstr != NULL) {
                PyErr_Format(PyExc_TypeError,
                             "%U got multiple values for keyword argument '%S'",
                             funcstr, PyTuple_GET_ITEM(val, 0));
                Py_DECREF(funcstr);
            }
            Py_XDECREF(type);
            Py_XDECREF(val);
            Py_XDECREF(tb);
        }
        else {
            PyErr_Restore(type, val, tb);
        }
    }
}

/* Stack: [NULL, func, callargs, kwargs?] -> [result] */
static int
call_function_ex(PyjFrame *f, PyObject **sp, int oparg)
{
    PyObject *kwargs = (oparg & 1) ? POP() : NULL;
    PyObject *callargs = POP();
    PyObject *func = POP();
    PyObject *res = NULL;
    if (kwargs != NULL && !PyDict_CheckExact(kwargs)) {
        PyObject *d = PyDict_New();
        if (d == NULL) {
            goto done;
        }
        if (_PyDict_MergeEx(d, kwargs, 2) < 0) {
            Py_DECREF(d);
            format_kwargs_error(func, kwargs);
            goto done;
        }
        Py_SETREF(kwargs, d);
    }
    if (!PyTuple_CheckExact(callargs)) {
        if (check_args_iterable(func, callargs) < 0) {
            goto done;
        }
        Py_SETREF(callargs, PySequence_Tuple(callargs));
        if (callargs == NULL) {
            goto done;
        }
    }
    res = PyObject_Call(func, callargs, kwargs);
done:
    Py_DECREF(func);
    Py_XDECREF(callargs);
    Py_XDECREF(kwargs);
    /* the NULL below func stays as the slot for the result */
    TOP() = res;
    return res == NULL ? -1 : 0;
}

/* The most arguments CALL_FUNCTION_EX hands a direct entry (gathered on the
 * C stack); a call with more goes through PyObject_Call. */
#define DIRECT_EX_MAX_ARGS 16

/* func(*callargs, **kwargs) (kwargs NULL or an exact dict) through func's
 * direct entry, the arguments as vectorcall would pass them: the tuple's
 * items, then the dict's values named by its keys.  NULL, with nothing
 * changed, where that cannot be (too many arguments, a key that is not
 * exactly a str, or pyj_call_prepare_direct's reasons). */
static void *
prepare_direct_ex(PyFunctionObject *func, PyObject *callargs, PyObject *kwargs, PyjFrame **callee)
{
    Py_ssize_t npos = PyTuple_GET_SIZE(callargs);
    Py_ssize_t nkw = kwargs != NULL ? PyDict_GET_SIZE(kwargs) : 0;
    if (npos + nkw > DIRECT_EX_MAX_ARGS) {
        return NULL;
    }
    PyObject *args[DIRECT_EX_MAX_ARGS];
    PyObject *kwnames = NULL;
    if (nkw > 0) {
        kwnames = PyTuple_New(nkw);
        if (kwnames == NULL) {
            PyErr_Clear();          /* the full call raises it again */
            return NULL;
        }
        Py_ssize_t pos = 0, i = 0;
        PyObject *key, *value;
        while (PyDict_Next(kwargs, &pos, &key, &value)) {
            if (!PyUnicode_CheckExact(key)) {
                Py_DECREF(kwnames);
                return NULL;
            }
            PyTuple_SET_ITEM(kwnames, i, Py_NewRef(key));
            args[npos + i++] = value;
        }
    }
    for (Py_ssize_t i = 0; i < npos; i++) {
        args[i] = PyTuple_GET_ITEM(callargs, i);
    }
    for (Py_ssize_t i = 0; i < npos + nkw; i++) {
        Py_INCREF(args[i]);         /* the frame's, if it is made */
    }
    void *entry = pyj_call_prepare_direct(_PyThreadState_GET(), func, args, npos + nkw, kwnames,
                                          callee);
    if (entry == NULL) {
        for (Py_ssize_t i = 0; i < npos + nkw; i++) {
            Py_DECREF(args[i]);     /* the tuple and dict keep theirs */
        }
    }
    Py_XDECREF(kwnames);
    return entry;
}

/* CALL_FUNCTION_EX in two parts (ops.h): a Python function compiled code
 * can run itself gets its arguments from the tuple and an exact dict
 * (prepare_direct_ex); anything else is called here. */
static void *
pyj_op_call_function_ex(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux, PyjFrame **callee)
{
    PyObject *kwargs = (oparg & 1) ? sp[-1] : NULL;
    PyObject *callargs = sp[-1 - (oparg & 1)];
    PyObject *func = sp[-2 - (oparg & 1)];
    if (Py_IS_TYPE(func, &PyFunction_Type) && PyTuple_CheckExact(callargs)
        && (kwargs == NULL || PyDict_CheckExact(kwargs))) {
        void *entry = prepare_direct_ex((PyFunctionObject *)func, callargs, kwargs, callee);
        if (entry != NULL) {
            return entry;
        }
    }
    return (void *)(intptr_t)(call_function_ex(f, sp, oparg) ? PYJ_DIRECT_ERROR : PYJ_DIRECT_NEXT);
}

/* ... and after the callee: its frame goes, then the callable and the
 * arguments (in the interpreter's order), the result in the slot below. */
static int
pyj_call_function_ex_return(PyThreadState *ts, PyObject **sp, int oparg, PyjFrame *callee,
                            PyObject *res)
{
    pyj_call_finish_direct(ts, callee);
    PyObject **base = sp - 3 - (oparg & 1);
    for (PyObject **value = base + 1; value < sp; value++) {
        Py_DECREF(*value);
    }
    base[0] = res;
    return res == NULL ? PYJ_DIRECT_ERROR : PYJ_DIRECT_NEXT;
}

/* Stack: [defaults?, kwdefaults?, annotations?, closure?, code] -> [function] */
static int
pyj_op_make_function(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *codeobj = POP();
    PyFunctionObject *func = (PyFunctionObject *)PyFunction_New(codeobj, f->f_globals);
    Py_DECREF(codeobj);
    int n = ((oparg & 8) != 0) + ((oparg & 4) != 0) + ((oparg & 2) != 0) + ((oparg & 1) != 0);
    if (func == NULL) {
        for (int i = 0; i < n; i++) {
            Py_DECREF(POP());
        }
        sp[0] = NULL;
        return -1;
    }
    if (oparg & 8) {
        func->func_closure = POP();
    }
    if (oparg & 4) {
        func->func_annotations = POP();
    }
    if (oparg & 2) {
        func->func_kwdefaults = POP();
    }
    if (oparg & 1) {
        func->func_defaults = POP();
    }
    sp[0] = (PyObject *)func;
    return 0;
}

/* ------------------------------------------------------------ containers */

static int
pyj_op_build_tuple(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *t = PyTuple_New(oparg);
    if (t == NULL) {
        return -1;
    }
    for (int i = 0; i < oparg; i++) {
        PyTuple_SET_ITEM(t, i, sp[i - oparg]);
    }
    sp[-oparg] = t;
    return 0;
}

static int
pyj_op_build_list(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *l = PyList_New(oparg);
    if (l == NULL) {
        return -1;
    }
    for (int i = 0; i < oparg; i++) {
        PyList_SET_ITEM(l, i, sp[i - oparg]);
    }
    sp[-oparg] = l;
    return 0;
}

static int
pyj_op_build_set(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *s = PySet_New(NULL);
    int err = s == NULL ? -1 : 0;
    for (int i = 0; i < oparg; i++) {
        PyObject *item = sp[i - oparg];
        if (err == 0) {
            err = PySet_Add(s, item);
        }
        Py_DECREF(item);
    }
    if (err != 0) {
        Py_XDECREF(s);
        sp[-oparg] = NULL;
        return -1;
    }
    sp[-oparg] = s;
    return 0;
}

static int
pyj_op_build_map(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *d = _PyDict_NewPresized(oparg);
    int err = d == NULL ? -1 : 0;
    for (int i = 0; i < oparg; i++) {
        PyObject *k = sp[2 * (i - oparg)];
        PyObject *v = sp[2 * (i - oparg) + 1];
        if (err == 0) {
            err = PyDict_SetItem(d, k, v);
        }
    }
    for (int i = 0; i < 2 * oparg; i++) {
        Py_DECREF(sp[i - 2 * oparg]);
    }
    if (err != 0) {
        Py_XDECREF(d);
        sp[-2 * oparg] = NULL;
        return -1;
    }
    sp[-2 * oparg] = d;
    return 0;
}

static int
pyj_op_build_const_key_map(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *keys = TOP();
    PyObject *d = NULL;
    int err = -1;
    if (!PyTuple_CheckExact(keys) || PyTuple_GET_SIZE(keys) != (Py_ssize_t)oparg) {
        PyErr_SetString(PyExc_SystemError, "bad BUILD_CONST_KEY_MAP keys argument");
    }
    else if ((d = _PyDict_NewPresized(oparg)) != NULL) {
        err = 0;
        for (int i = 0; i < oparg && err == 0; i++) {
            err = PyDict_SetItem(d, PyTuple_GET_ITEM(keys, i), sp[i - oparg - 1]);
        }
    }
    for (int i = 0; i <= oparg; i++) {
        Py_DECREF(sp[i - oparg - 1]);
    }
    if (err != 0) {
        Py_XDECREF(d);
        sp[-oparg - 1] = NULL;
        return -1;
    }
    sp[-oparg - 1] = d;
    return 0;
}

static int
pyj_op_build_string(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *empty = PyUnicode_New(0, 0);
    PyObject *s = empty ? _PyUnicode_JoinArray(empty, sp - oparg, oparg) : NULL;
    Py_XDECREF(empty);
    for (int i = 0; i < oparg; i++) {
        Py_DECREF(sp[i - oparg]);
    }
    sp[-oparg] = s;
    return s == NULL ? -1 : 0;
}

static int
pyj_op_build_slice(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *step = oparg == 3 ? POP() : NULL;
    PyObject *stop = POP();
    PyObject *start = TOP();
    PyObject *slice = PySlice_New(start, stop, step);
    Py_DECREF(start);
    Py_DECREF(stop);
    Py_XDECREF(step);
    TOP() = slice;
    return slice == NULL ? -1 : 0;
}

/* BUILD_SLICE fused with the BINARY_SUBSCR or STORE_SUBSCR after it: a
 * slice of an exact list or tuple with int or None bounds is taken without
 * making the slice object, as list_subscript / tuple_subscript /
 * list_ass_subscript take it after PySlice_Unpack; anything else builds the
 * slice and subscripts as the two instructions would. */

/* _PyEval_SliceIndex for the bounds handled here: None leaves the default,
 * an exact int is clamped to Py_ssize_t; 0 for anything else. */
static int
plain_slice_bound(PyObject *v, Py_ssize_t *bound)
{
    if (v == Py_None) {
        return 1;
    }
    if (PyLong_CheckExact(v)) {
        *bound = PyNumber_AsSsize_t(v, NULL);   /* clamps, cannot fail for an int */
        return 1;
    }
    return 0;
}

/* PySlice_Unpack + PySlice_AdjustIndices for `length` items, without the
 * slice object: the number of items selected, or -1 when the bounds are
 * not plain (or the step is 0: the generic path raises). */
static Py_ssize_t
plain_slice_indices(PyObject **bounds, int nbounds, Py_ssize_t length,
                    Py_ssize_t *start, Py_ssize_t *stop, Py_ssize_t *step)
{
    *step = 1;
    if (nbounds == 3 && bounds[2] != Py_None) {
        if (!plain_slice_bound(bounds[2], step) || *step == 0) {
            return -1;
        }
        if (*step < -PY_SSIZE_T_MAX) {
            *step = -PY_SSIZE_T_MAX;    /* so that -step cannot overflow */
        }
    }
    *start = *step < 0 ? PY_SSIZE_T_MAX : 0;
    *stop = *step < 0 ? PY_SSIZE_T_MIN : PY_SSIZE_T_MAX;
    if (!plain_slice_bound(bounds[0], start) || !plain_slice_bound(bounds[1], stop)) {
        return -1;
    }
    return PySlice_AdjustIndices(length, start, stop, *step);
}

static PyObject *
list_slice_by_step(PyObject *list, Py_ssize_t start, Py_ssize_t step, Py_ssize_t count)
{
    PyObject *res = PyList_New(count);
    if (res == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyList_SET_ITEM(res, i, Py_NewRef(PyList_GET_ITEM(list, start + i * step)));
    }
    return res;
}

/* container[bounds] when the fast cases apply; NULL with *handled 0 when not */
static PyObject *
plain_slice_of(PyObject *container, PyObject **bounds, int nbounds, int *handled)
{
    Py_ssize_t start, stop, step, count;
    *handled = 0;
    if (PyList_CheckExact(container)) {
        count = plain_slice_indices(bounds, nbounds, PyList_GET_SIZE(container), &start, &stop, &step);
        if (count < 0) {
            return NULL;
        }
        *handled = 1;
        return step == 1 ? PyList_GetSlice(container, start, stop)
                         : list_slice_by_step(container, start, step, count);
    }
    if (PyTuple_CheckExact(container)) {
        count = plain_slice_indices(bounds, nbounds, PyTuple_GET_SIZE(container), &start, &stop, &step);
        if (count < 0 || step != 1) {
            return NULL;
        }
        *handled = 1;
        return PyTuple_GetSlice(container, start, stop);
    }
    return NULL;
}

static PyObject *
new_slice(PyObject **bounds, int nbounds)
{
    return PySlice_New(bounds[0], bounds[1], nbounds == 3 ? bounds[2] : NULL);
}

static void
release_bounds(PyObject **bounds, int nbounds)
{
    for (int i = 0; i < nbounds; i++) {
        Py_DECREF(bounds[i]);
    }
}

/* [container, start, stop(, step)] -> [container[start:stop(:step)]] */
static int
pyj_op_subscr_slice(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject **bounds = sp - oparg;
    PyObject *container = bounds[-1];
    int handled;
    PyObject *res = plain_slice_of(container, bounds, oparg, &handled);
    if (!handled) {
        PyObject *slice = new_slice(bounds, oparg);
        res = slice != NULL ? PyObject_GetItem(container, slice) : NULL;
        Py_XDECREF(slice);
    }
    release_bounds(bounds, oparg);
    Py_DECREF(container);
    bounds[-1] = res;
    return res == NULL ? -1 : 0;
}

/* [value, container, start, stop(, step)] -> [], container[...] = value */
static int
pyj_op_store_subscr_slice(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject **bounds = sp - oparg;
    PyObject *container = bounds[-1];
    PyObject *value = bounds[-2];
    Py_ssize_t start, stop, step;
    int err;
    if (PyList_CheckExact(container)
        && plain_slice_indices(bounds, oparg, PyList_GET_SIZE(container), &start, &stop, &step) >= 0
        && step == 1) {
        err = PyList_SetSlice(container, start, stop, value);
    }
    else {
        PyObject *slice = new_slice(bounds, oparg);
        err = slice != NULL ? PyObject_SetItem(container, slice, value) : -1;
        Py_XDECREF(slice);
    }
    release_bounds(bounds, oparg);
    Py_DECREF(container);
    Py_DECREF(value);
    return err;
}

static int
pyj_op_list_append(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *v = POP();
    int err = PyList_Append(PEEK(oparg), v);
    Py_DECREF(v);
    return err;
}

static int
pyj_op_set_add(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *v = POP();
    int err = PySet_Add(PEEK(oparg), v);
    Py_DECREF(v);
    return err;
}

static int
pyj_op_map_add(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *value = POP();
    PyObject *key = POP();
    int err = PyDict_SetItem(PEEK(oparg), key, value);
    Py_DECREF(key);
    Py_DECREF(value);
    return err;
}

static int
pyj_op_list_extend(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *iterable = POP();
    PyObject *list = PEEK(oparg);
    PyObject *none = _PyList_Extend((PyListObject *)list, iterable);
    if (none == NULL) {
        if (PyErr_ExceptionMatches(PyExc_TypeError)
            && Py_TYPE(iterable)->tp_iter == NULL && !PySequence_Check(iterable)) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "Value after * must be an iterable, not %.200s",
                         Py_TYPE(iterable)->tp_name);
        }
        Py_DECREF(iterable);
        return -1;
    }
    Py_DECREF(none);
    Py_DECREF(iterable);
    return 0;
}

static int
pyj_op_set_update(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *iterable = POP();
    int err = _PySet_Update(PEEK(oparg), iterable);
    Py_DECREF(iterable);
    return err < 0 ? -1 : 0;
}

static int
pyj_op_dict_update(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *update = POP();
    if (PyDict_Update(PEEK(oparg), update) < 0) {
        if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
            PyErr_Format(PyExc_TypeError, "'%.200s' object is not a mapping",
                         Py_TYPE(update)->tp_name);
        }
        Py_DECREF(update);
        return -1;
    }
    Py_DECREF(update);
    return 0;
}

static int
pyj_op_dict_merge(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *update = POP();
    if (_PyDict_MergeEx(PEEK(oparg), update, 2) < 0) {
        format_kwargs_error(PEEK(oparg + 2), update);
        Py_DECREF(update);
        return -1;
    }
    Py_DECREF(update);
    return 0;
}

static int
pyj_op_list_to_tuple(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *list = TOP();
    PyObject *t = PyList_AsTuple(list);
    Py_DECREF(list);
    TOP() = t;
    return t == NULL ? -1 : 0;
}

static int
pyj_op_format_value(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *spec = (oparg & FVS_MASK) == FVS_HAVE_SPEC ? POP() : NULL;
    PyObject *value = TOP();
    PyObject *conv = NULL;
    switch (oparg & FVC_MASK) {
    case FVC_STR: conv = PyObject_Str(value); break;
    case FVC_REPR: conv = PyObject_Repr(value); break;
    case FVC_ASCII: conv = PyObject_ASCII(value); break;
    default: conv = Py_NewRef(value); break;
    }
    Py_DECREF(value);
    if (conv == NULL) {
        Py_XDECREF(spec);
        TOP() = NULL;
        return -1;
    }
    PyObject *res;
    if (PyUnicode_CheckExact(conv) && spec == NULL) {
        res = conv;
    }
    else {
        res = PyObject_Format(conv, spec);
        Py_DECREF(conv);
    }
    Py_XDECREF(spec);
    TOP() = res;
    return res == NULL ? -1 : 0;
}

/* ------------------------------------------------------------- unpacking */

/* Unpacks `v` into argcnt items, then (if argcntafter >= 0) a list of the
 * rest and argcntafter more; items are written to sp[-1], sp[-2], ... as the
 * interpreter pushes them (first item on top). */
static int
unpack_iterable(PyObject *v, int argcnt, int argcntafter, PyObject **top)
{
    int i = 0, j = 0;
    Py_ssize_t ll;
    PyObject *it, *w, *l;
    it = PyObject_GetIter(v);
    if (it == NULL) {
        if (PyErr_ExceptionMatches(PyExc_TypeError)
            && Py_TYPE(v)->tp_iter == NULL && !PySequence_Check(v)) {
            PyErr_Format(PyExc_TypeError, "cannot unpack non-iterable %.200s object",
                         Py_TYPE(v)->tp_name);
        }
        return -1;
    }
    for (; i < argcnt; i++) {
        w = PyIter_Next(it);
        if (w == NULL) {
            if (!PyErr_Occurred()) {
                if (argcntafter == -1) {
                    PyErr_Format(PyExc_ValueError,
                                 "not enough values to unpack (expected %d, got %d)",
                                 argcnt, i);
                }
                else {
                    PyErr_Format(PyExc_ValueError,
                                 "not enough values to unpack (expected at least %d, got %d)",
                                 argcnt + argcntafter, i);
                }
            }
            goto error;
        }
        *--top = w;
    }
    if (argcntafter == -1) {
        w = PyIter_Next(it);
        if (w == NULL) {
            if (PyErr_Occurred()) {
                goto error;
            }
            Py_DECREF(it);
            return 0;
        }
        Py_DECREF(w);
        PyErr_Format(PyExc_ValueError, "too many values to unpack (expected %d)", argcnt);
        goto error;
    }
    l = PySequence_List(it);
    if (l == NULL) {
        goto error;
    }
    *--top = l;
    i++;
    ll = PyList_GET_SIZE(l);
    if (ll < argcntafter) {
        PyErr_Format(PyExc_ValueError,
                     "not enough values to unpack (expected at least %d, got %zd)",
                     argcnt + argcntafter, argcnt + ll);
        goto error;
    }
    for (j = argcntafter; j > 0; j--, i++) {
        *--top = PyList_GET_ITEM(l, ll - j);
    }
    Py_SET_SIZE(l, ll - argcntafter);
    Py_DECREF(it);
    return 0;
error:
    for (; i > 0; i--, top++) {
        Py_DECREF(*top);
        *top = NULL;
    }
    Py_XDECREF(it);
    return -1;
}

/* UNPACK_SEQUENCE: [seq] -> [item_n-1, ..., item_0] */
static int
pyj_op_unpack_sequence(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *seq = POP();
    PyObject **top = sp + oparg;
    if (PyTuple_CheckExact(seq) && PyTuple_GET_SIZE(seq) == oparg) {
        for (int i = 0; i < oparg; i++) {
            *--top = Py_NewRef(PyTuple_GET_ITEM(seq, i));
        }
    }
    else if (PyList_CheckExact(seq) && PyList_GET_SIZE(seq) == oparg) {
        for (int i = 0; i < oparg; i++) {
            *--top = Py_NewRef(PyList_GET_ITEM(seq, i));
        }
    }
    else if (unpack_iterable(seq, oparg, -1, top) < 0) {
        Py_DECREF(seq);
        return -1;
    }
    Py_DECREF(seq);
    return 0;
}

/* UNPACK_SEQUENCE n straight into fast locals: the n STORE_FASTs that
 * follow it, one code unit each (the translator checks), are at `stores`,
 * and item i goes to the local stores[i] names, in order, each local's old
 * value released as that STORE_FAST releases it.
 *
 * The leaf (called without a GC-mode switch, so it must run nothing): an
 * exact tuple or list of length n whose stores free no old value; returns
 * 1 having done them all, else 0, having done some or none.  The helper
 * then does them all again from the first: re-storing an item in the local
 * that holds it frees nothing, the sequence holding it too. */
static int
pyj_unpack_into_locals_leaf(PyjFrame *f, PyObject *seq, const _Py_CODEUNIT *stores, int n)
{
    PyObject **items;
    if (PyTuple_CheckExact(seq) && PyTuple_GET_SIZE(seq) == n) {
        items = ((PyTupleObject *)seq)->ob_item;
    }
    else if (PyList_CheckExact(seq) && PyList_GET_SIZE(seq) == n) {
        items = ((PyListObject *)seq)->ob_item;
    }
    else {
        return 0;
    }
    for (int i = 0; i < n; i++) {
        PyObject **local = &f->localsplus[_Py_OPARG(stores[i])];
        PyObject *old = *local;
        if (old == items[i]) {
            continue;               /* the count would go up and down again */
        }
        if (old != NULL && Py_REFCNT(old) == 1) {
            return 0;               /* its release could run code */
        }
        *local = Py_NewRef(items[i]);
        if (old != NULL) {
            Py_SET_REFCNT(old, Py_REFCNT(old) - 1);
        }
    }
    return 1;
}

/* The interpreter's order: every item taken (an iterable unpacked, its
 * errors raised at the UNPACK_SEQUENCE) and the sequence released before
 * the first store; releasing an old value may run code, which sees the
 * line of its STORE_FAST.  n_owned: n, and PYJ_UNPACK_OWNED if `seq` is
 * the stack's reference, which this consumes (else it is borrowed). */
static int
pyj_unpack_into_locals(PyjFrame *f, PyObject *seq, const _Py_CODEUNIT *stores, int n_owned)
{
    int n = n_owned & ~PYJ_UNPACK_OWNED;
    PyObject *items[PYJ_UNPACK_MAX];        /* item i at items[n - 1 - i] */
    f->prev_instr = (_Py_CODEUNIT *)stores - 1 - INLINE_CACHE_ENTRIES_UNPACK_SEQUENCE;
    if (!(n_owned & PYJ_UNPACK_OWNED)) {
        Py_INCREF(seq);
    }
    items[0] = seq;                     /* where UNPACK_SEQUENCE's helper pops it */
    if (pyj_op_unpack_sequence(f, items + 1, n, NULL) < 0) {
        return -1;
    }
    for (int i = 0; i < n; i++) {
        PyObject **local = &f->localsplus[_Py_OPARG(stores[i])];
        PyObject *old = *local;
        *local = items[n - 1 - i];
        f->prev_instr = (_Py_CODEUNIT *)&stores[i];
        Py_XDECREF(old);
    }
    return 0;
}

static int
pyj_op_unpack_ex(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    int totalargs = 1 + (oparg & 0xFF) + (oparg >> 8);
    PyObject *seq = POP();
    int err = unpack_iterable(seq, oparg & 0xFF, oparg >> 8, sp + totalargs);
    Py_DECREF(seq);
    return err;
}

/* ------------------------------------------------------------ exceptions */

static int
pyj_op_push_exc_info(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *value = TOP();
    _PyErr_StackItem *exc_info = _PyThreadState_GET()->exc_info;
    TOP() = exc_info->exc_value != NULL ? exc_info->exc_value : Py_NewRef(Py_None);
    sp[0] = Py_NewRef(value);
    exc_info->exc_value = value;
    return 0;
}

static int
pyj_op_pop_except(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    _PyErr_StackItem *exc_info = _PyThreadState_GET()->exc_info;
    PyObject *old = exc_info->exc_value;
    exc_info->exc_value = POP();
    Py_XDECREF(old);
    return 0;
}

#define CANNOT_CATCH_MSG \
    "catching classes that do not inherit from BaseException is not allowed"

static int
check_except_type_valid(PyObject *right)
{
    if (PyTuple_Check(right)) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(right); i++) {
            PyObject *exc = PyTuple_GET_ITEM(right, i);
            if (!PyExceptionClass_Check(exc)) {
                PyErr_SetString(PyExc_TypeError, CANNOT_CATCH_MSG);
                return -1;
            }
        }
    }
    else if (!PyExceptionClass_Check(right)) {
        PyErr_SetString(PyExc_TypeError, CANNOT_CATCH_MSG);
        return -1;
    }
    return 0;
}

/* [exc, type] -> [exc, bool] */
static int
pyj_op_check_exc_match(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *right = POP();
    PyObject *left = TOP();
    if (check_except_type_valid(right) < 0) {
        Py_DECREF(right);
        return -1;
    }
    int res = PyErr_GivenExceptionMatches(left, right);
    Py_DECREF(right);
    sp[-1 + 1] = Py_NewRef(res ? Py_True : Py_False);
    return 0;
}

/* ------------------------------------------------------------- except* */

static int
is_exception_group(PyObject *exc)
{
    return PyObject_TypeCheck(exc, (PyTypeObject *)PyExc_BaseExceptionGroup);
}

static PyObject *
make_exception_group(PyObject *excs)
{
    return PyObject_CallFunction(PyExc_BaseExceptionGroup, "(sO)", "", excs);
}

static int
check_except_star_type_valid(PyObject *right)
{
    if (check_except_type_valid(right) < 0) {
        return -1;
    }
    int is_group = 0;
    if (PyTuple_Check(right)) {
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(right) && !is_group; i++) {
            is_group = PyObject_IsSubclass(PyTuple_GET_ITEM(right, i), PyExc_BaseExceptionGroup);
            if (is_group < 0) {
                return -1;
            }
        }
    }
    else {
        is_group = PyObject_IsSubclass(right, PyExc_BaseExceptionGroup);
        if (is_group < 0) {
            return -1;
        }
    }
    if (is_group) {
        PyErr_SetString(PyExc_TypeError,
                        "catching ExceptionGroup with except* is not allowed. Use except instead.");
        return -1;
    }
    return 0;
}

/* Split exc_value by match_type into (match, rest); None for an empty part. */
static int
exception_group_match(PyObject *exc_value, PyObject *match_type,
                      PyObject **match, PyObject **rest)
{
    if (Py_IsNone(exc_value)) {
        *match = Py_NewRef(Py_None);
        *rest = Py_NewRef(Py_None);
        return 0;
    }
    if (PyErr_GivenExceptionMatches(exc_value, match_type)) {
        if (is_exception_group(exc_value)) {
            *match = Py_NewRef(exc_value);
        }
        else {
            /* a naked exception matches whole: wrap it in a group */
            PyObject *excs = PyTuple_Pack(1, exc_value);
            if (excs == NULL) {
                return -1;
            }
            *match = make_exception_group(excs);
            Py_DECREF(excs);
            if (*match == NULL) {
                return -1;
            }
        }
        *rest = Py_NewRef(Py_None);
        return 0;
    }
    if (is_exception_group(exc_value)) {
        PyObject *pair = PyObject_CallMethod(exc_value, "split", "(O)", match_type);
        if (pair == NULL) {
            return -1;
        }
        *match = Py_NewRef(PyTuple_GET_ITEM(pair, 0));
        *rest = Py_NewRef(PyTuple_GET_ITEM(pair, 1));
        Py_DECREF(pair);
        return 0;
    }
    *match = Py_NewRef(Py_None);
    *rest = Py_NewRef(Py_None);
    return 0;
}

/* [exc, type] -> [rest, match] on a (partial) match, [exc, None] otherwise */
static int
pyj_op_check_eg_match(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *match_type = POP();
    if (check_except_star_type_valid(match_type) < 0) {
        Py_DECREF(match_type);
        return -1;
    }
    PyObject *exc_value = TOP();
    PyObject *match = NULL, *rest = NULL;
    int res = exception_group_match(exc_value, match_type, &match, &rest);
    Py_DECREF(match_type);
    if (res < 0) {
        return -1;
    }
    if (Py_IsNone(match)) {
        sp[0] = match;
        Py_DECREF(rest);
    }
    else {
        TOP() = rest;
        sp[0] = match;
        PyErr_SetExcInfo(NULL, Py_NewRef(match), NULL);
        Py_DECREF(exc_value);
    }
    return 0;
}

static int
collect_leaf_ids(PyObject *exc, PyObject *ids)
{
    if (Py_IsNone(exc)) {
        return 0;
    }
    if (!is_exception_group(exc)) {
        PyObject *id = PyLong_FromVoidPtr(exc);
        if (id == NULL) {
            return -1;
        }
        int err = PySet_Add(ids, id);
        Py_DECREF(id);
        return err;
    }
    PyObject *children = PyObject_GetAttrString(exc, "exceptions");
    if (children == NULL) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(children); i++) {
        if (collect_leaf_ids(PyTuple_GET_ITEM(children, i), ids) < 0) {
            Py_DECREF(children);
            return -1;
        }
    }
    Py_DECREF(children);
    return 0;
}

/* split() only takes a Python function as predicate: make_leaf_predicate(ids)
 * returns `lambda e: id(e) in ids`, compiled once at start-up. */
static PyObject *make_leaf_predicate;

static int
init_leaf_predicate(void)
{
    PyObject *ns = PyDict_New();
    if (ns == NULL || PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins()) < 0) {
        Py_XDECREF(ns);
        return -1;
    }
    PyObject *res = PyRun_String("def make(ids):\n    return lambda e: id(e) in ids\n",
                                 Py_file_input, ns, ns);
    if (res == NULL) {
        Py_DECREF(ns);
        return -1;
    }
    Py_DECREF(res);
    make_leaf_predicate = Py_XNewRef(PyDict_GetItemString(ns, "make"));
    Py_DECREF(ns);
    return make_leaf_predicate == NULL ? -1 : 0;
}

/* The part of group `eg` whose leaves appear in the groups of `keep`,
 * keeping eg's nesting (None if nothing is left). */
static PyObject *
exception_group_projection(PyObject *eg, PyObject *keep)
{
    PyObject *ids = PySet_New(NULL);
    if (ids == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(keep); i++) {
        if (collect_leaf_ids(PyList_GET_ITEM(keep, i), ids) < 0) {
            Py_DECREF(ids);
            return NULL;
        }
    }
    PyObject *predicate = PyObject_CallOneArg(make_leaf_predicate, ids);
    Py_DECREF(ids);
    if (predicate == NULL) {
        return NULL;
    }
    PyObject *pair = PyObject_CallMethod(eg, "split", "(O)", predicate);
    Py_DECREF(predicate);
    if (pair == NULL) {
        return NULL;
    }
    PyObject *match = Py_NewRef(PyTuple_GET_ITEM(pair, 0));
    Py_DECREF(pair);
    return match;
}

static int
same_exception_metadata(PyObject *a, PyObject *b)
{
    PyBaseExceptionObject *e1 = (PyBaseExceptionObject *)a;
    PyBaseExceptionObject *e2 = (PyBaseExceptionObject *)b;
    return e1->notes == e2->notes && e1->traceback == e2->traceback
           && e1->cause == e2->cause && e1->context == e2->context;
}

/* What a try-except* raises at its end: the exceptions raised in the
 * handlers, with the re-raised ones in orig's nesting, raised ones as
 * siblings in a new group. */
static PyObject *
prep_reraise_star(PyObject *orig, PyObject *excs)
{
    Py_ssize_t n = PyList_GET_SIZE(excs);
    if (n == 0) {
        return Py_NewRef(Py_None);
    }
    if (!is_exception_group(orig)) {
        /* a naked exception was caught and wrapped: one handler ran */
        return Py_NewRef(PyList_GET_ITEM(excs, 0));
    }
    PyObject *raised = PyList_New(0), *reraised = PyList_New(0);
    PyObject *reraised_eg = NULL, *result = NULL;
    if (raised == NULL || reraised == NULL) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *e = PyList_GET_ITEM(excs, i);
        if (Py_IsNone(e)) {
            continue;
        }
        if (PyList_Append(same_exception_metadata(e, orig) ? reraised : raised, e) < 0) {
            goto done;
        }
    }
    reraised_eg = exception_group_projection(orig, reraised);
    if (reraised_eg == NULL) {
        goto done;
    }
    if (PyList_GET_SIZE(raised) == 0) {
        result = Py_NewRef(reraised_eg);
    }
    else {
        if (!Py_IsNone(reraised_eg) && PyList_Append(raised, reraised_eg) < 0) {
            goto done;
        }
        if (PyList_GET_SIZE(raised) > 1) {
            result = make_exception_group(raised);
        }
        else {
            result = Py_NewRef(PyList_GET_ITEM(raised, 0));
        }
    }
done:
    Py_XDECREF(raised);
    Py_XDECREF(reraised);
    Py_XDECREF(reraised_eg);
    return result;
}

/* [orig, excs] -> [exception to raise, or None] */
static int
pyj_op_prep_reraise_star(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *excs = POP();
    PyObject *orig = TOP();
    PyObject *val = prep_reraise_star(orig, excs);
    Py_DECREF(excs);
    Py_DECREF(orig);
    TOP() = val;
    return val == NULL ? -1 : 0;
}

/* RERAISE: [.., lasti?, .., exc] -> re-raised; restores prev_instr from lasti */
static int
pyj_op_reraise(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *val = POP();
    if (oparg) {
        PyObject *lasti = PEEK(oparg);
        if (PyLong_Check(lasti)) {
            f->prev_instr = _PyCode_CODE(f->f_code) + PyLong_AsLong(lasti);
        }
        else {
            Py_DECREF(val);
            PyErr_SetString(PyExc_SystemError, "lasti is not an int");
            return -1;
        }
    }
    PyObject *exc = Py_NewRef(PyExceptionInstance_Class(val));
    PyObject *tb = PyException_GetTraceback(val);
    PyErr_Restore(exc, val, tb);
    return -2;
}

static int
do_raise(PyObject *exc, PyObject *cause)
{
    PyObject *type = NULL, *value = NULL;
    if (exc == NULL) {
        /* bare `raise`: re-raise the exception being handled */
        _PyErr_StackItem *exc_info = _PyErr_GetTopmostException(_PyThreadState_GET());
        value = exc_info->exc_value;
        if (Py_IsNone(value) || value == NULL) {
            PyErr_SetString(PyExc_RuntimeError, "No active exception to reraise");
            return -1;
        }
        type = Py_NewRef(PyExceptionInstance_Class(value));
        Py_INCREF(value);
        PyErr_Restore(type, value, PyException_GetTraceback(value));
        return -2;
    }
    if (PyExceptionClass_Check(exc)) {
        type = exc;
        value = PyObject_CallNoArgs(exc);
        if (value == NULL) {
            goto raise_error;
        }
        if (!PyExceptionInstance_Check(value)) {
            PyErr_Format(PyExc_TypeError,
                         "calling %R should have returned an instance of "
                         "BaseException, not %R", type, Py_TYPE(value));
            goto raise_error;
        }
    }
    else if (PyExceptionInstance_Check(exc)) {
        value = exc;
        type = PyExceptionInstance_Class(exc);
        Py_INCREF(type);
    }
    else {
        Py_DECREF(exc);
        PyErr_SetString(PyExc_TypeError, "exceptions must derive from BaseException");
        goto raise_error;
    }
    if (cause) {
        PyObject *fixed_cause;
        if (PyExceptionClass_Check(cause)) {
            fixed_cause = PyObject_CallNoArgs(cause);
            if (fixed_cause == NULL) {
                goto raise_error;
            }
            Py_DECREF(cause);
        }
        else if (PyExceptionInstance_Check(cause)) {
            fixed_cause = cause;
        }
        else if (Py_IsNone(cause)) {
            Py_DECREF(cause);
            fixed_cause = NULL;
        }
        else {
            PyErr_SetString(PyExc_TypeError,
                            "exception causes must derive from BaseException");
            goto raise_error;
        }
        PyException_SetCause(value, fixed_cause);
    }
    PyErr_SetObject(type, value);
    Py_DECREF(value);
    Py_DECREF(type);
    return -1;
raise_error:
    Py_XDECREF(value);
    Py_XDECREF(type);
    Py_XDECREF(cause);
    return -1;
}

static int
pyj_op_raise_varargs(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *cause = NULL, *exc = NULL;
    switch (oparg) {
    case 2:
        cause = POP();
        /* fall through */
    case 1:
        exc = POP();
        /* fall through */
    case 0:
        return do_raise(exc, cause);
    default:
        PyErr_SetString(PyExc_SystemError, "bad RAISE_VARARGS oparg");
        return -1;
    }
}

/* [exit, lasti, prev_exc, val] -> [..., res]: calls exit(type, val, tb) */
static int
pyj_op_with_except_start(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *exit_func = PEEK(4);
    PyObject *val = TOP();
    PyObject *tb = PyException_GetTraceback(val);
    Py_XDECREF(tb);  /* borrowed use: val keeps it alive */
    PyObject *stack[4] = {NULL, PyExceptionInstance_Class(val), val, tb ? tb : Py_None};
    PyObject *res = PyObject_Vectorcall(exit_func, stack + 1,
                                        3 | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
    if (res == NULL) {
        return -1;
    }
    sp[0] = res;
    return 0;
}

/* [mgr] -> [exit, enter_result]: BEFORE_WITH and BEFORE_ASYNC_WITH differ only
 * in the special methods they look up and the words of their errors. */
static int
enter_context(PyObject **sp, PyObject *enter_name, PyObject *exit_name, const char *kind)
{
    PyObject *mgr = TOP();
    PyObject *enter = _PyObject_LookupSpecial(mgr, enter_name);
    if (enter == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_Format(PyExc_TypeError,
                         "'%.200s' object does not support the %scontext manager protocol",
                         Py_TYPE(mgr)->tp_name, kind);
        }
        return -1;
    }
    PyObject *exit = _PyObject_LookupSpecial(mgr, exit_name);
    if (exit == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_Format(PyExc_TypeError,
                         "'%.200s' object does not support the %scontext manager protocol "
                         "(missed %U method)", Py_TYPE(mgr)->tp_name, kind, exit_name);
        }
        Py_DECREF(enter);
        return -1;
    }
    TOP() = exit;
    Py_DECREF(mgr);
    PyObject *res = PyObject_CallNoArgs(enter);
    Py_DECREF(enter);
    if (res == NULL) {
        return -1;
    }
    sp[0] = res;
    return 0;
}

static int
pyj_op_before_with(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    return enter_context(sp, s__enter__, s__exit__, "");
}

static int
pyj_op_before_async_with(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    return enter_context(sp, s__aenter__, s__aexit__, "asynchronous ");
}

/* ---------------------------------------------------------------- import */

static int
pyj_op_import_name(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *name = co_name_at(f, oparg);
    PyObject *fromlist = POP();
    PyObject *level = TOP();
    PyObject *import_func = PyDict_GetItemWithError(f->f_builtins, s__import__);
    PyObject *res = NULL;
    if (import_func == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_ImportError, "__import__ not found");
        }
    }
    else {
        PyObject *locals = f->f_locals != NULL ? f->f_locals : Py_None;
        PyObject *args[5] = {name, f->f_globals, locals, fromlist, level};
        Py_INCREF(import_func);
        res = PyObject_Vectorcall(import_func, args, 5, NULL);
        Py_DECREF(import_func);
    }
    Py_DECREF(level);
    Py_DECREF(fromlist);
    TOP() = res;
    return res == NULL ? -1 : 0;
}

/* [module] -> [module, attr], with the submodule fallback and the messages
 * of `from x import y`. */
static int
pyj_op_import_from(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *v = TOP();
    PyObject *name = co_name_at(f, oparg);
    PyObject *x, *pkgname = NULL, *fullmodname = NULL, *pkgpath = NULL, *errmsg = NULL;
    if (_PyObject_LookupAttr(v, name, &x) != 0) {
        if (x == NULL) {
            return -1;
        }
        sp[0] = x;
        return 0;
    }
    /* circular or lazy import: try sys.modules["pkg.name"] */
    if (_PyObject_LookupAttr(v, s__name__, &pkgname) < 0) {
        return -1;
    }
    if (pkgname == NULL || !PyUnicode_Check(pkgname)) {
        Py_CLEAR(pkgname);
        goto error;
    }
    fullmodname = PyUnicode_FromFormat("%U.%U", pkgname, name);
    if (fullmodname == NULL) {
        Py_DECREF(pkgname);
        return -1;
    }
    x = PyImport_GetModule(fullmodname);
    Py_DECREF(fullmodname);
    if (x == NULL && !PyErr_Occurred()) {
        goto error;
    }
    Py_DECREF(pkgname);
    if (x == NULL) {
        return -1;
    }
    sp[0] = x;
    return 0;
error:
    if (pkgname == NULL) {
        pkgname = PyUnicode_FromString("<unknown module name>");
        if (pkgname == NULL) {
            return -1;
        }
    }
    if (_PyObject_LookupAttr(v, s__file__, &pkgpath) < 0 || pkgpath == NULL
        || !PyUnicode_Check(pkgpath)) {
        PyErr_Clear();
        Py_CLEAR(pkgpath);
        errmsg = PyUnicode_FromFormat("cannot import name %R from %R (unknown location)",
                                      name, pkgname);
    }
    else {
        errmsg = PyUnicode_FromFormat("cannot import name %R from %R (%S)",
                                      name, pkgname, pkgpath);
    }
    if (errmsg != NULL) {
        PyErr_SetImportError(errmsg, pkgname, pkgpath);
        Py_DECREF(errmsg);
    }
    Py_XDECREF(pkgname);
    Py_XDECREF(pkgpath);
    return -1;
}

/* IMPORT_STAR: [module] -> []; binds the module's public names in f_locals
 * (module and class bodies only: `import *` is not allowed in functions). */
static int
import_all_from(PyObject *locals, PyObject *v)
{
    PyObject *all;
    int skip_private = 0;
    if (_PyObject_LookupAttr(v, s__all__, &all) < 0) {
        return -1;
    }
    if (all == NULL) {
        PyObject *dict;
        if (_PyObject_LookupAttr(v, s__dict__, &dict) < 0) {
            return -1;
        }
        if (dict == NULL) {
            PyErr_SetString(PyExc_ImportError, "from-import-* object has no __dict__ and no __all__");
            return -1;
        }
        all = PyMapping_Keys(dict);
        Py_DECREF(dict);
        if (all == NULL) {
            return -1;
        }
        skip_private = 1;
    }
    int err = 0;
    for (Py_ssize_t pos = 0; err == 0; pos++) {
        PyObject *name = PySequence_GetItem(all, pos);
        if (name == NULL) {
            if (PyErr_ExceptionMatches(PyExc_IndexError)) {
                PyErr_Clear();
            }
            else {
                err = -1;
            }
            break;
        }
        if (!PyUnicode_Check(name)) {
            PyObject *modname = PyObject_GetAttr(v, s__name__);
            if (modname == NULL || !PyUnicode_Check(modname)) {
                if (modname == NULL) {
                    PyErr_Clear();
                }
                PyErr_Format(PyExc_TypeError, "module __name__ must be a string, not %.100s",
                             modname ? Py_TYPE(modname)->tp_name : "NULL");
            }
            else {
                PyErr_Format(PyExc_TypeError, "%s in %U.%s must be str, not %.100s",
                             skip_private ? "Key" : "Item", modname,
                             skip_private ? "__dict__" : "__all__", Py_TYPE(name)->tp_name);
            }
            Py_XDECREF(modname);
            Py_DECREF(name);
            err = -1;
            break;
        }
        if (skip_private && PyUnicode_READ_CHAR(name, 0) == '_') {
            Py_DECREF(name);
            continue;
        }
        PyObject *value = PyObject_GetAttr(v, name);
        if (value == NULL) {
            err = -1;
        }
        else if (PyDict_CheckExact(locals)) {
            err = PyDict_SetItem(locals, name, value);
        }
        else {
            err = PyObject_SetItem(locals, name, value);
        }
        Py_DECREF(name);
        Py_XDECREF(value);
    }
    Py_DECREF(all);
    return err;
}

static int
pyj_op_import_star(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *from = POP();
    int err;
    if (f->f_locals == NULL) {
        PyErr_SetString(PyExc_SystemError, "no locals found during 'import *'");
        err = -1;
    }
    else {
        err = import_all_from(f->f_locals, from);
    }
    Py_DECREF(from);
    return err;
}

/* ----------------------------------------------------------------- match */

static int
pyj_op_get_len(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    Py_ssize_t n = PyObject_Length(TOP());
    if (n < 0) {
        return -1;
    }
    PyObject *len = PyLong_FromSsize_t(n);
    if (len == NULL) {
        return -1;
    }
    sp[0] = len;
    return 0;
}

static int
pyj_op_match_mapping(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    int match = Py_TYPE(TOP())->tp_flags & Py_TPFLAGS_MAPPING;
    sp[0] = Py_NewRef(match ? Py_True : Py_False);
    return 0;
}

static int
pyj_op_match_sequence(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    int match = Py_TYPE(TOP())->tp_flags & Py_TPFLAGS_SEQUENCE;
    sp[0] = Py_NewRef(match ? Py_True : Py_False);
    return 0;
}

/* Values of `keys` looked up in `map` with map.get(key, dummy); a tuple, or
 * None when some key is missing. */
static PyObject *
match_keys(PyObject *map, PyObject *keys)
{
    Py_ssize_t nkeys = PyTuple_GET_SIZE(keys);
    if (nkeys == 0) {
        return PyTuple_New(0);
    }
    PyObject *get = NULL, *seen = NULL, *values = NULL;
    PyObject *dummy = PyObject_CallNoArgs((PyObject *)&PyBaseObject_Type);
    if (dummy == NULL) {
        return NULL;
    }
    get = PyObject_GetAttrString(map, "get");
    if (get == NULL) {
        goto fail;
    }
    seen = PySet_New(NULL);
    values = PyList_New(0);
    if (seen == NULL || values == NULL) {
        goto fail;
    }
    for (Py_ssize_t i = 0; i < nkeys; i++) {
        PyObject *key = PyTuple_GET_ITEM(keys, i);
        if (PySet_Contains(seen, key) || PySet_Add(seen, key)) {
            if (!PyErr_Occurred()) {
                PyErr_Format(PyExc_ValueError, "mapping pattern checks duplicate key (%R)", key);
            }
            goto fail;
        }
        PyObject *value = PyObject_CallFunctionObjArgs(get, key, dummy, NULL);
        if (value == NULL) {
            goto fail;
        }
        if (value == dummy) {
            Py_DECREF(value);
            Py_DECREF(values);
            values = Py_NewRef(Py_None);
            goto done;
        }
        int err = PyList_Append(values, value);
        Py_DECREF(value);
        if (err < 0) {
            goto fail;
        }
    }
    Py_SETREF(values, PyList_AsTuple(values));
done:
    Py_DECREF(dummy);
    Py_DECREF(get);
    Py_DECREF(seen);
    return values;
fail:
    Py_DECREF(dummy);
    Py_XDECREF(get);
    Py_XDECREF(seen);
    Py_XDECREF(values);
    return NULL;
}

/* [subject, keys] -> [subject, keys, values_or_None] */
static int
pyj_op_match_keys(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *values = match_keys(PEEK(2), TOP());
    if (values == NULL) {
        return -1;
    }
    sp[0] = values;
    return 0;
}

static PyObject *
match_class_attr(PyObject *subject, PyObject *type, PyObject *name, PyObject *seen)
{
    if (PySet_Contains(seen, name) || PySet_Add(seen, name)) {
        if (!PyErr_Occurred()) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple sub-patterns for attribute %R",
                         ((PyTypeObject *)type)->tp_name, name);
        }
        return NULL;
    }
    PyObject *attr = PyObject_GetAttr(subject, name);
    if (attr == NULL && PyErr_ExceptionMatches(PyExc_AttributeError)) {
        PyErr_Clear();
    }
    return attr;
}

/* Tuple of the attributes a class pattern extracts, or None on no match. */
static PyObject *
match_class(PyObject *subject, PyObject *type, Py_ssize_t nargs, PyObject *kwargs)
{
    if (!PyType_Check(type)) {
        PyErr_SetString(PyExc_TypeError, "called match pattern must be a type");
        return NULL;
    }
    if (PyObject_IsInstance(subject, type) <= 0) {
        return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
    }
    PyObject *seen = PySet_New(NULL);
    PyObject *attrs = PyList_New(0);
    PyObject *match_args = NULL;
    if (seen == NULL || attrs == NULL) {
        goto fail;
    }
    Py_ssize_t allowed = 1;
    int match_self = 0;
    if (nargs) {
        if (_PyObject_LookupAttr(type, s__match_args__, &match_args) < 0) {
            goto fail;
        }
        if (match_args) {
            if (!PyTuple_CheckExact(match_args)) {
                PyErr_Format(PyExc_TypeError, "%s.__match_args__ must be a tuple (got %s)",
                             ((PyTypeObject *)type)->tp_name, Py_TYPE(match_args)->tp_name);
                goto fail;
            }
            allowed = PyTuple_GET_SIZE(match_args);
        }
        else {
            /* builtins like int() match the subject itself for one argument */
            match_args = PyTuple_New(0);
            if (match_args == NULL) {
                goto fail;
            }
            match_self = PyType_HasFeature((PyTypeObject *)type, _Py_TPFLAGS_MATCH_SELF);
            allowed = match_self ? 1 : 0;
        }
        if (allowed < nargs) {
            const char *plural = (allowed == 1) ? "" : "s";
            PyErr_Format(PyExc_TypeError, "%s() accepts %d positional sub-pattern%s (%d given)",
                         ((PyTypeObject *)type)->tp_name, allowed, plural, nargs);
            goto fail;
        }
        if (match_self) {
            if (PyList_Append(attrs, subject) < 0) {
                goto fail;
            }
        }
        else {
            for (Py_ssize_t i = 0; i < nargs; i++) {
                PyObject *name = PyTuple_GET_ITEM(match_args, i);
                if (!PyUnicode_CheckExact(name)) {
                    PyErr_Format(PyExc_TypeError, "__match_args__ elements must be strings (got %s)",
                                 Py_TYPE(name)->tp_name);
                    goto fail;
                }
                PyObject *attr = match_class_attr(subject, type, name, seen);
                if (attr == NULL) {
                    goto no_match_or_fail;
                }
                int err = PyList_Append(attrs, attr);
                Py_DECREF(attr);
                if (err < 0) {
                    goto fail;
                }
            }
        }
        Py_CLEAR(match_args);
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kwargs); i++) {
        PyObject *name = PyTuple_GET_ITEM(kwargs, i);
        PyObject *attr = match_class_attr(subject, type, name, seen);
        if (attr == NULL) {
            goto no_match_or_fail;
        }
        int err = PyList_Append(attrs, attr);
        Py_DECREF(attr);
        if (err < 0) {
            goto fail;
        }
    }
    Py_DECREF(seen);
    Py_SETREF(attrs, PyList_AsTuple(attrs));
    return attrs;
no_match_or_fail:
    if (!PyErr_Occurred()) {
        Py_XDECREF(match_args);
        Py_DECREF(seen);
        Py_DECREF(attrs);
        return Py_NewRef(Py_None);
    }
fail:
    Py_XDECREF(match_args);
    Py_XDECREF(seen);
    Py_XDECREF(attrs);
    return NULL;
}

/* [subject, type, names] -> [attrs_tuple_or_None]; on error the subject
 * stays on the stack. */
static int
pyj_op_match_class(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *names = POP();
    PyObject *type = POP();
    PyObject *subject = TOP();
    PyObject *attrs = match_class(subject, type, oparg, names);
    Py_DECREF(names);
    Py_DECREF(type);
    if (attrs == NULL) {
        return -1;
    }
    TOP() = attrs;
    Py_DECREF(subject);
    return 0;
}

/* --------------------------------------------------------------- misc */

static int
pyj_op_print_expr(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *value = POP();
    PyObject *hook = PySys_GetObject("displayhook");
    PyObject *res;
    if (hook == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "lost sys.displayhook");
        Py_DECREF(value);
        return -1;
    }
    res = PyObject_CallOneArg(hook, value);
    Py_DECREF(value);
    if (res == NULL) {
        return -1;
    }
    Py_DECREF(res);
    return 0;
}

static int
pyj_op_setup_annotations(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *locals = f->f_locals;
    if (locals == NULL) {
        PyErr_SetString(PyExc_SystemError, "no locals found when setting up annotations");
        return -1;
    }
    PyObject *name = s__annotations__;
    if (PyDict_CheckExact(locals)) {
        PyObject *ann = PyDict_GetItemWithError(locals, name);
        if (ann != NULL) {
            return 0;
        }
        if (PyErr_Occurred()) {
            return -1;
        }
        ann = PyDict_New();
        if (ann == NULL) {
            return -1;
        }
        int err = PyDict_SetItem(locals, name, ann);
        Py_DECREF(ann);
        return err;
    }
    PyObject *ann = PyObject_GetItem(locals, name);
    if (ann != NULL) {
        Py_DECREF(ann);
        return 0;
    }
    if (!PyErr_ExceptionMatches(PyExc_KeyError)) {
        return -1;
    }
    PyErr_Clear();
    ann = PyDict_New();
    if (ann == NULL) {
        return -1;
    }
    int err = PyObject_SetItem(locals, name, ann);
    Py_DECREF(ann);
    return err;
}

/* ----------------------------------------------------------------- table */

#define HELPER(name) {#name, (void *)pyj_op_##name}

const pyj_helper_entry pyj_helper_table[] = {
    {"enter_handler", (void *)pyj_enter_handler},
    {"exit_with_error", (void *)pyj_exit_with_error},
    {"eval_breaker", (void *)pyj_eval_breaker},
    {"dealloc", (void *)_Py_Dealloc},
    HELPER(unbound_local),
    HELPER(make_cell),
    HELPER(load_deref),
    HELPER(store_deref),
    HELPER(delete_deref),
    HELPER(load_classderef),
    HELPER(store_global),
    HELPER(delete_global),
    HELPER(load_name),
    HELPER(store_name),
    HELPER(delete_name),
    HELPER(load_build_class),
    HELPER(delete_attr),
    HELPER(binary_subscr),
    HELPER(binary_subscr_direct),
    {"binary_subscr_direct_return", (void *)pyj_binary_subscr_direct_return},
    HELPER(store_subscr),
    HELPER(delete_subscr),
    HELPER(binary_op),
    HELPER(binary_op_direct),
    {"binary_op_direct_return", (void *)pyj_binary_op_direct_return},
    HELPER(unary),
    {"PyNumber_Positive", (void *)PyNumber_Positive},
    {"PyFloat_FromDouble", (void *)PyFloat_FromDouble},
    {"PyType_IsSubtype", (void *)PyType_IsSubtype},   /* a walk of tp_mro: a leaf */
    {"pow", (void *)pow},           /* the C library's, as float.__pow__ calls it */
    {"PyLong_FromLongLong", (void *)PyLong_FromLongLong},
    {"PyNumber_Negative", (void *)PyNumber_Negative},
    {"PyNumber_Invert", (void *)PyNumber_Invert},
    HELPER(unary_not),
    HELPER(compare_op),
    HELPER(contains_op),
    HELPER(pop_truth),
    HELPER(peek_truth),
    HELPER(get_iter),
    {"range_iterator", (void *)pyj_range_iterator},
    {"reversed_range_iterator", (void *)pyj_reversed_range_iterator},
    HELPER(for_iter),
    {"for_iter_return", (void *)pyj_for_iter_return},
    {"for_iter_leaf", (void *)pyj_op_for_iter_leaf},
    {"for_iter_return_leaf", (void *)pyj_for_iter_return_leaf},
    HELPER(consume_begin),
    HELPER(consume_item),
    HELPER(consume_end),
    HELPER(call),
    {"call_return", (void *)pyj_call_return},
    {"call_recorded", (void *)pyj_op_call_recorded},
    {"call_recorded_return", (void *)pyj_call_return},
    {"call_recorded_leaf", (void *)pyj_op_call_recorded_leaf},
    {"call_recorded_return_leaf", (void *)pyj_call_return_leaf},
    {"recursion_exhausted", (void *)pyj_recursion_exhausted},
    {"send_return", (void *)pyj_send_return},
    {"send_leaf", (void *)pyj_op_send_leaf},
    {"send_return_leaf", (void *)pyj_send_return_leaf},
    HELPER(call_function_ex),
    {"call_function_ex_return", (void *)pyj_call_function_ex_return},
    HELPER(make_function),
    HELPER(build_tuple),
    HELPER(build_list),
    HELPER(build_set),
    HELPER(build_map),
    HELPER(build_const_key_map),
    HELPER(build_string),
    HELPER(build_slice),
    HELPER(subscr_slice),
    HELPER(store_subscr_slice),
    HELPER(list_append),
    HELPER(set_add),
    HELPER(map_add),
    HELPER(list_extend),
    HELPER(set_update),
    HELPER(dict_update),
    HELPER(dict_merge),
    HELPER(list_to_tuple),
    HELPER(format_value),
    HELPER(unpack_sequence),
    {"unpack_into_locals", (void *)pyj_unpack_into_locals},
    {"unpack_into_locals_leaf", (void *)pyj_unpack_into_locals_leaf},
    HELPER(unpack_ex),
    HELPER(push_exc_info),
    HELPER(pop_except),
    HELPER(check_exc_match),
    HELPER(check_eg_match),
    HELPER(prep_reraise_star),
    HELPER(import_star),
    HELPER(reraise),
    HELPER(raise_varargs),
    HELPER(with_except_start),
    HELPER(before_with),
    HELPER(before_async_with),
    GEN_HELPERS
    SITE_CACHE_HELPERS
    HELPER(import_name),
    HELPER(import_from),
    HELPER(get_len),
    HELPER(match_mapping),
    HELPER(match_sequence),
    HELPER(match_keys),
    HELPER(match_class),
    HELPER(print_expr),
    HELPER(setup_annotations),
    {NULL, NULL},
};
