/* Miss handlers of the inline caches (see site_cache.h). */
#include "site_cache.h"

PyObject *pyj_lookup_global(PyjFrame *f, PyObject *name);   /* ops.c */

#define TOP() (sp[-1])
#define POP() (*--sp)

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
 * take precedence, and the standard attribute lookup (for STORE_ATTR, the
 * caller also checked the standard setattr). */
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

/* LOAD_METHOD: cacheable when the method is found on the type by the
 * standard lookup and the instance cannot shadow it: either instances have
 * no attributes of their own (guard2 = 0), or they keep them in inline values
 * whose shared keys do not hold the name (guard2 = number of shared keys + 1:
 * keys are only ever appended, so an unchanged count means still absent). */
static void
fill_method_cache(pyj_site_cache *cache, PyObject *obj, PyObject *name, PyObject *meth)
{
    PyTypeObject *tp = Py_TYPE(obj);
    if (!(tp->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG) || tp->tp_version_tag == 0
        || tp->tp_getattro != PyObject_GenericGetAttr || !PyUnicode_CheckExact(name)
        || _PyType_Lookup(tp, name) != meth) {
        return;
    }
    uint64_t guard2;
    if (tp->tp_dictoffset == 0 && !(tp->tp_flags & Py_TPFLAGS_MANAGED_DICT)) {
        guard2 = 0;
    }
    else if ((tp->tp_flags & Py_TPFLAGS_MANAGED_DICT) && (tp->tp_flags & Py_TPFLAGS_HEAPTYPE)
             && *_PyObject_ManagedDictPointer(obj) == NULL
             && *_PyObject_ValuesPointer(obj) != NULL
             && ((PyHeapTypeObject *)tp)->ht_cached_keys != NULL
             && shared_key_index(tp, name) < 0) {
        guard2 = (uint64_t)((PyHeapTypeObject *)tp)->ht_cached_keys->dk_nentries + 1;
    }
    else {
        return;
    }
    cache->guard1 = tp->tp_version_tag;
    cache->guard2 = guard2;
    cache->value = meth;        /* borrowed from the type's dict, guarded by its version */
}

int
pyj_op_load_method_cached(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *obj = TOP();
    PyObject *name = PyTuple_GET_ITEM(f->f_code->co_names, oparg);
    PyObject *meth = NULL;
    int is_method = _PyObject_GetMethod(obj, name, &meth);
    if (meth == NULL) {
        Py_DECREF(obj);
        TOP() = NULL;
        return -1;
    }
    if (is_method) {
        fill_method_cache((pyj_site_cache *)aux, obj, name, meth);
        /* [meth, self]: the callee gets self as its first argument */
        TOP() = meth;
        sp[0] = obj;
    }
    else {
        /* [NULL, attr] */
        TOP() = NULL;
        Py_DECREF(obj);
        sp[0] = meth;
    }
    return 0;
}

/* STORE_ATTR: cacheable like LOAD_ATTR (an inline-values slot, nothing on
 * the class), with the standard setattr. */
int
pyj_op_store_attr_cached(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *owner = POP();
    PyObject *v = POP();
    PyObject *name = PyTuple_GET_ITEM(f->f_code->co_names, oparg);
    int err = PyObject_SetAttr(owner, name, v);
    if (err == 0 && Py_TYPE(owner)->tp_setattro == PyObject_GenericSetAttr) {
        fill_attr_cache((pyj_site_cache *)aux, owner, name);
    }
    Py_DECREF(v);
    Py_DECREF(owner);
    return err;
}
