/* The objects a .NET runtime start-up leaves behind, kept out of the cyclic
 * collector's way.
 *
 * Starting the runtime imports clr_loader, cffi, pycparser, pythonnet and
 * what they import: about 9,000 containers (modules, functions, types,
 * parser tables) that live as long as the process.  A full collection walks
 * every tracked container, and these are cold in the cache: on float, whose
 * live Point objects cause a full collection per iteration, each took
 * about twice as long as in a process without them.  gc.freeze() is the
 * collector's own answer for objects that live for good, but it would take
 * the program's objects too, so here only the containers tracked during
 * the start-up are moved: the generations are set aside at the start (new
 * containers are tracked into a then-empty generation 0), and at the end
 * whatever the generations hold is the start-up's.
 *
 * Only on the only thread, so no other thread's objects are made meanwhile.
 * Collections during the start-up see only the start-up's containers; the
 * set-aside ones count as references from outside, which keeps what they
 * reach alive, as any reference from an older generation does.  Objects
 * made or first tracked meanwhile by a signal handler or a gc callback would
 * be frozen too: they still die by reference count, they are only never
 * collected as part of a cycle. */
#include "cpython311.h"
#include "startup_objects.h"

static PyGC_Head set_aside[NUM_GENERATIONS];
static Py_ssize_t set_aside_long_lived_total, set_aside_long_lived_pending;
static int active;

static void list_init(PyGC_Head *list)
{
    list->_gc_prev = (uintptr_t)list;
    list->_gc_next = (uintptr_t)list;
}

/* Append all of `from` to the end of `to`; `from` is left empty. */
static void list_move_all(PyGC_Head *from, PyGC_Head *to)
{
    PyGC_Head *first = _PyGCHead_NEXT(from);
    if (first != from) {
        PyGC_Head *last = _PyGCHead_PREV(from);
        PyGC_Head *to_last = _PyGCHead_PREV(to);
        _PyGCHead_SET_NEXT(to_last, first);
        _PyGCHead_SET_PREV(first, to_last);
        _PyGCHead_SET_NEXT(last, to);
        _PyGCHead_SET_PREV(to, last);
    }
    list_init(from);
}

static int only_thread(PyInterpreterState *interp)
{
    PyThreadState *head = PyInterpreterState_ThreadHead(interp);
    return head != NULL && PyThreadState_Next(head) == NULL;
}

int pyj_startup_objects_begin(void)
{
    PyInterpreterState *interp = _PyInterpreterState_GET();
    struct _gc_runtime_state *gc = &interp->gc;
    if (active || gc->collecting || !only_thread(interp))
        return 0;
    for (int i = 0; i < NUM_GENERATIONS; i++) {
        list_init(&set_aside[i]);
        list_move_all(&gc->generations[i].head, &set_aside[i]);
    }
    set_aside_long_lived_total = gc->long_lived_total;
    set_aside_long_lived_pending = gc->long_lived_pending;
    active = 1;
    return 1;
}

void pyj_startup_objects_end(int freeze)
{
    PyInterpreterState *interp = _PyInterpreterState_GET();
    struct _gc_runtime_state *gc = &interp->gc;
    if (!active)
        return;
    freeze = freeze && only_thread(interp);
    for (int i = 0; i < NUM_GENERATIONS; i++) {
        PyGC_Head *generation = &gc->generations[i].head;
        list_move_all(generation, freeze ? &gc->permanent_generation.head : &set_aside[i]);
        list_move_all(&set_aside[i], generation);
    }
    if (freeze) {
        /* the frozen objects take no part in when full collections happen */
        gc->long_lived_total = set_aside_long_lived_total;
        gc->long_lived_pending = set_aside_long_lived_pending;
    }
    active = 0;
}
