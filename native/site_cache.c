/* Miss handlers of the inline caches (see site_cache.h). */
#include "site_cache.h"

PyObject *pyj_lookup_global(PyjFrame *f, PyObject *name);   /* ops.c */

#define TOP() (sp[-1])

int
pyj_op_load_global_cached(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    pyj_site_cache *cache = (pyj_site_cache *)aux;
    PyObject *name = PyTuple_GET_ITEM(f->f_code->co_names, oparg >> 1);
    int cacheable = PyDict_CheckExact(f->f_globals) && PyDict_CheckExact(f->f_builtins);
    uint64_t gv = 0, bv = 0;
    if (cacheable) {
        gv = ((PyDictObject *)f->f_globals)->ma_version_tag;
        bv = ((PyDictObject *)f->f_builtins)->ma_version_tag;
    }
    PyObject *v = pyj_lookup_global(f, name);
    if (v == NULL) {
        return -1;
    }
    /* a lookup in exact dicts with a str key runs no Python code, but check
     * nothing changed under it anyway */
    if (cacheable && gv == ((PyDictObject *)f->f_globals)->ma_version_tag
        && bv == ((PyDictObject *)f->f_builtins)->ma_version_tag) {
        cache->guard1 = gv;
        cache->guard2 = bv;
        cache->value = v;
    }
    if (oparg & 1) {
        *sp++ = NULL;
    }
    sp[0] = v;
    return 0;
}

/* Index of `name` among the shared keys of the instances of `tp`, or -1. */
static Py_ssize_t
shared_key_index(PyTypeObject *tp, PyObject *name)
{
    if (!(tp->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
        return -1;
    }
    PyDictKeysObject *keys = ((PyHeapTypeObject *)tp)->ht_cached_keys;
    if (keys == NULL || !DK_IS_UNICODE(keys)) {
        return -1;
    }
    PyDictUnicodeEntry *entries = DK_UNICODE_ENTRIES(keys);
    for (Py_ssize_t i = 0; i < keys->dk_nentries; i++) {
        if (entries[i].me_key == name) {
            return i;
        }
    }
    return -1;
}

/* Cacheable: an instance attribute kept in the object's inline values (no
 * dict materialised), with nothing of that name on the class that could
 * take precedence, and the standard attribute lookup. */
static void
fill_attr_cache(pyj_site_cache *cache, PyObject *owner, PyObject *name)
{
    PyTypeObject *tp = Py_TYPE(owner);
    if (!(tp->tp_flags & Py_TPFLAGS_MANAGED_DICT) || !(tp->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG)
        || tp->tp_version_tag == 0 || tp->tp_getattro != PyObject_GenericGetAttr
        || *_PyObject_ManagedDictPointer(owner) != NULL
        || *_PyObject_ValuesPointer(owner) == NULL
        || !PyUnicode_CheckExact(name) || _PyType_Lookup(tp, name) != NULL) {
        return;
    }
    Py_ssize_t index = shared_key_index(tp, name);
    if (index >= 0) {
        cache->guard1 = tp->tp_version_tag;
        cache->guard2 = (uint64_t)index;
    }
}

int
pyj_op_load_attr_cached(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *owner = TOP();
    PyObject *name = PyTuple_GET_ITEM(f->f_code->co_names, oparg);
    PyObject *res = PyObject_GetAttr(owner, name);
    if (res != NULL) {
        fill_attr_cache((pyj_site_cache *)aux, owner, name);
    }
    Py_DECREF(owner);
    TOP() = res;
    return res == NULL ? -1 : 0;
}
