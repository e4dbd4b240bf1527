/* Miss handlers of the inline caches (see site_cache.h). */
#include "site_cache.h"

PyObject *pyj_lookup_global(PyjFrame *f, PyObject *name);   /* ops.c */

#define TOP() (sp[-1])
#define POP() (*--sp)

/* Index of the entry holding `name` among a str-keyed dict keys object's
 * entries (a probe of its hash table, as the dict lookup does, comparing
 * keys by identity), KEY_ABSENT if there is none, or KEY_UNKNOWN if it
 * cannot tell (general keys, or an equal but distinct key object). */
#define KEY_ABSENT (-1)
#define KEY_UNKNOWN (-2)

static Py_ssize_t
keys_index_of(PyDictKeysObject *keys, PyObject *name)
{
    Py_hash_t hash = ((PyASCIIObject *)name)->hash;
    if (keys->dk_kind == DICT_KEYS_GENERAL || hash == -1) {
        return KEY_UNKNOWN;
    }
    size_t mask = ((size_t)1 << keys->dk_log2_size) - 1;
    size_t perturb = (size_t)hash;
    size_t i = (size_t)hash & mask;
    PyDictUnicodeEntry *entries = DK_UNICODE_ENTRIES(keys);
    for (;;) {
        Py_ssize_t ix;
        switch (keys->dk_log2_index_bytes - keys->dk_log2_size) {
        case 0: ix = ((const int8_t *)keys->dk_indices)[i]; break;
        case 1: ix = ((const int16_t *)keys->dk_indices)[i]; break;
        case 2: ix = ((const int32_t *)keys->dk_indices)[i]; break;
        default: ix = ((const int64_t *)keys->dk_indices)[i]; break;
        }
        if (ix == DKIX_EMPTY) {
            return KEY_ABSENT;
        }
        if (ix >= 0) {
            PyObject *key = entries[ix].me_key;
            if (key == name) {
                return ix;
            }
            if (((PyASCIIObject *)key)->hash == hash) {
                return KEY_UNKNOWN;
            }
        }
        perturb >>= 5;
        i = (i * 5 + perturb + 1) & mask;
    }
}

/* Record where a global found by a full lookup lives (site_cache.h). */
static void
record_global(pyj_site_cache *cache, PyjFrame *f, PyObject *name, PyObject *value)
{
    PyDictKeysObject *gkeys = ((PyDictObject *)f->f_globals)->ma_keys;
    pyj_site_entry *keyed = &cache->way[0];
    pyj_site_entry *versioned = &cache->way[1];
    versioned->guard1 = ((PyDictObject *)f->f_globals)->ma_version_tag;
    versioned->guard2 = ((PyDictObject *)f->f_builtins)->ma_version_tag;
    versioned->value = value;
    Py_ssize_t index = keys_index_of(gkeys, name);
    if (index >= 0) {
        keyed->guard1 = 0;
        keyed->guard2 = (uint64_t)index;
        return;
    }
    if (index == KEY_ABSENT && gkeys->dk_version != 0) {
        index = keys_index_of(((PyDictObject *)f->f_builtins)->ma_keys, name);
        if (index >= 0) {
            keyed->guard1 = gkeys->dk_version;
            keyed->guard2 = (uint64_t)index | PYJ_BUILTIN_FLAG;
        }
    }
}

int
pyj_op_load_global_cached(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    PyObject *name = PyTuple_GET_ITEM(f->f_code->co_names, oparg >> 1);
    int cacheable = PyDict_CheckExact(f->f_globals) && PyDict_CheckExact(f->f_builtins)
                    && PyUnicode_CheckExact(name);
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
        record_global((pyj_site_cache *)aux, f, name, v);
    }
    if (oparg & 1) {
        *sp++ = NULL;
    }
    sp[0] = v;
    return 0;
}

/* ------------------------------------------------------- type-keyed ways */

/* Can results for this type be keyed by its version? */
static int
has_version(PyTypeObject *tp)
{
    return pyj_type_version(tp) != 0;
}

/* The entry for the object's type, or NULL. */
static pyj_site_entry *
entry_for_type(pyj_site_cache *cache, PyTypeObject *tp)
{
    uint64_t version = tp->tp_version_tag;
    if (!has_version(tp)) {
        return NULL;
    }
    for (int i = 0; i < PYJ_SITE_WAYS; i++) {
        if (cache->way[i].guard1 == version) {
            return &cache->way[i];
        }
    }
    return NULL;
}

/* Where a new result goes: the first entry (compiled code checks it first)
 * if it is empty, else the other entries, the newest first. */
static void
record(pyj_site_cache *cache, uint64_t guard1, uint64_t guard2, PyObject *value)
{
    pyj_site_entry *entry = &cache->way[0];
    if (entry->guard1 != 0) {
        memmove(&cache->way[2], &cache->way[1], sizeof(pyj_site_entry) * (PYJ_SITE_WAYS - 2));
        entry = &cache->way[1];
    }
    entry->guard1 = guard1;
    entry->guard2 = guard2;
    entry->value = value;
}

/* Position of a str key among a dict keys object's entries (compared by
 * identity: the names of code are interned), or -1. */
static Py_ssize_t
unicode_entry_index(PyDictKeysObject *keys, PyObject *name)
{
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

/* Index of `name` among the shared keys of the instances of `tp`, or -1. */
static Py_ssize_t
shared_key_index(PyTypeObject *tp, PyObject *name)
{
    if (!(tp->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
        return -1;
    }
    return unicode_entry_index(((PyHeapTypeObject *)tp)->ht_cached_keys, name);
}

/* The inline values of an object whose type has managed dicts, or NULL once
 * a real __dict__ has been made for it. */
static PyDictValues *
inline_values(PyObject *obj)
{
    return *_PyObject_ValuesPointer(obj);
}

/* -------------------------------------------------- LOAD_ATTR, STORE_ATTR */

/* The instance __dict__ of an object, if it has one made (NULL if not, or
 * if its attributes are still inline values). */
static PyDictObject *
instance_dict(PyObject *obj)
{
    PyTypeObject *tp = Py_TYPE(obj);
    if (tp->tp_flags & Py_TPFLAGS_MANAGED_DICT) {
        return (PyDictObject *)*_PyObject_ManagedDictPointer(obj);
    }
    if (tp->tp_dictoffset > 0) {
        return *(PyDictObject **)((char *)obj + tp->tp_dictoffset);
    }
    return NULL;
}

/* The value of `name` in the object's __dict__ (borrowed), or NULL if it is
 * not there: the entry at `hint` first (the interpreter's
 * LOAD_ATTR_WITH_HINT), else a lookup (instances of one class need not
 * share their dicts' layout).  The type's version guarantees that nothing
 * on the class takes precedence. */
static PyObject *
instance_dict_value(PyObject *obj, PyObject *name, Py_ssize_t hint)
{
    PyDictObject *dict = instance_dict(obj);
    if (dict == NULL || !PyDict_CheckExact(dict)) {
        return NULL;
    }
    PyDictKeysObject *keys = dict->ma_keys;
    if (hint < keys->dk_nentries && DK_IS_UNICODE(keys)
        && DK_UNICODE_ENTRIES(keys)[hint].me_key == name) {
        PyObject *value = dict->ma_values != NULL ? dict->ma_values->values[hint]
                                                  : DK_UNICODE_ENTRIES(keys)[hint].me_value;
        if (value != NULL) {
            return value;
        }
    }
    PyObject *value = PyDict_GetItemWithError((PyObject *)dict, name);
    if (value == NULL) {
        PyErr_Clear();      /* the full lookup reports what is missing */
    }
    return value;
}

/* Modules look attributes up generically, then try __getattr__: a value
 * found in the module's dict is what the generic lookup returns. */
static int
standard_getattr(PyTypeObject *tp)
{
    return tp->tp_getattro == PyObject_GenericGetAttr
        || tp->tp_getattro == PyModule_Type.tp_getattro;
}

/* Where an attribute lives, for the standard lookup (or setattr, for
 * stores): a __slots__ member of the class (guard2 = its offset with
 * PYJ_SLOT_FLAG), the instance's inline values (guard2 = the index in
 * them) or its __dict__ (guard2 = the entry's index with PYJ_DICT_FLAG;
 * helpers read and write the dict), when nothing of that name on the class
 * could take precedence.  Returns 0 if none of these. */
static int
attribute_location(PyObject *owner, PyObject *name, int for_store, uint64_t *where)
{
    PyTypeObject *tp = Py_TYPE(owner);
    if (!has_version(tp) || !standard_getattr(tp) || !PyUnicode_CheckExact(name)) {
        return 0;
    }
    PyObject *descr = _PyType_Lookup(tp, name);
    if (descr != NULL) {
        if (!Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
            return 0;
        }
        PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
        if (member->type != T_OBJECT_EX || (member->flags & (READONLY | PY_AUDIT_READ))) {
            return 0;
        }
        *where = (uint64_t)member->offset | PYJ_SLOT_FLAG;
        return 1;
    }
    if ((tp->tp_flags & Py_TPFLAGS_MANAGED_DICT) && *_PyObject_ManagedDictPointer(owner) == NULL) {
        Py_ssize_t index = inline_values(owner) != NULL ? shared_key_index(tp, name) : -1;
        if (index < 0) {
            return 0;
        }
        *where = (uint64_t)index;
        return 1;
    }
    PyDictObject *dict = instance_dict(owner);
    if (dict == NULL || !PyDict_CheckExact(dict)) {
        return 0;
    }
    Py_ssize_t hint = unicode_entry_index(dict->ma_keys, name);
    if (hint < 0) {
        if (!for_store) {
            return 0;
        }
        hint = 0;       /* stores do not use the hint */
    }
    *where = (uint64_t)hint | PYJ_DICT_FLAG
             | ((tp->tp_flags & Py_TPFLAGS_MANAGED_DICT) ? PYJ_MANAGED_FLAG : 0);
    return 1;
}

/* A site that keeps finding nothing to record (a bound method, a property,
 * an attribute of a class with a metaclass) stops looking after
 * PYJ_RECORD_ATTEMPTS tries, as the interpreter's adaptive instructions
 * stop trying to specialize: each try costs lookups the generic path has
 * just made. */
static int
gave_up(pyj_site_cache *cache)
{
    return cache->unrecorded >= PYJ_RECORD_ATTEMPTS;
}

static void
record_attr(pyj_site_cache *cache, PyObject *owner, PyObject *name, int for_store)
{
    uint64_t where;
    if (gave_up(cache) || entry_for_type(cache, Py_TYPE(owner)) != NULL) {
        return;
    }
    if (attribute_location(owner, name, for_store, &where)) {
        record(cache, Py_TYPE(owner)->tp_version_tag, where, NULL);
    }
    else {
        cache->unrecorded++;
    }
}

/* The storage of the attribute a slot or inline-values entry describes, or
 * NULL if the object keeps no inline values any more (its __dict__ was
 * made) or the entry is of the __dict__ kind. */
static PyObject **
attribute_slot(pyj_site_entry *entry, PyObject *owner)
{
    if (entry->guard2 & PYJ_DICT_FLAG) {
        return NULL;
    }
    if (entry->guard2 & PYJ_SLOT_FLAG) {
        return (PyObject **)((char *)owner + (entry->guard2 & ~PYJ_SLOT_FLAG));
    }
    PyDictValues *values = inline_values(owner);
    return values != NULL ? &values->values[entry->guard2] : NULL;
}

/* A module's attribute as the first entry records it: the value of the
 * entry at the recorded index of its dict if that entry holds the name
 * (borrowed), else NULL. */
static PyObject *
module_attribute(pyj_site_cache *cache, PyObject *module, PyObject *name)
{
    uint64_t where = cache->way[0].guard2;
    if (!(where & PYJ_MODULE_FLAG) || cache->way[0].guard1 != 0) {
        return NULL;
    }
    PyDictObject *dict = (PyDictObject *)((PyModuleObject *)module)->md_dict;
    Py_ssize_t index = (Py_ssize_t)(where & ~PYJ_MODULE_FLAG);
    if (dict == NULL || !PyDict_CheckExact(dict) || dict->ma_keys->dk_kind == DICT_KEYS_GENERAL
        || index >= dict->ma_keys->dk_nentries) {
        return NULL;
    }
    PyDictUnicodeEntry *entry = &DK_UNICODE_ENTRIES(dict->ma_keys)[index];
    return entry->me_key == name && dict->ma_values == NULL ? entry->me_value : NULL;
}

/* Record where a module attribute found by a full lookup is, in the first
 * entry unless it holds something else: module_getattro looks in the
 * module's dict once ModuleType has nothing of the name. */
static void
record_module_attribute(pyj_site_cache *cache, PyObject *module, PyObject *name)
{
    pyj_site_entry *entry = &cache->way[0];
    PyObject *dict = ((PyModuleObject *)module)->md_dict;
    if ((entry->guard1 != 0 || (entry->guard2 != 0 && !(entry->guard2 & PYJ_MODULE_FLAG)))
        || dict == NULL || !PyDict_CheckExact(dict) || !PyUnicode_CheckExact(name)
        || _PyType_Lookup(&PyModule_Type, name) != NULL) {
        return;
    }
    Py_ssize_t index = keys_index_of(((PyDictObject *)dict)->ma_keys, name);
    if (index >= 0) {
        entry->guard2 = (uint64_t)index | PYJ_MODULE_FLAG;
    }
}

/* getattr(module, name) (a new reference), from the cache if it can */
static PyObject *
module_getattr(pyj_site_cache *cache, PyObject *module, PyObject *name)
{
    PyObject *res = Py_XNewRef(module_attribute(cache, module, name));
    if (res == NULL) {
        res = PyObject_GetAttr(module, name);
        if (res != NULL) {
            record_module_attribute(cache, module, name);
        }
    }
    return res;
}

/* An attribute of a class whose metatype is `type`, from the cache or
 * recorded there when type_getattro would return what the class's MRO
 * holds: nothing of that name on `type` (which never changes), and a
 * value whose type has no __get__ (or a function, which a class hands out
 * as itself).  The value's type is guarded by its version too, as giving
 * it a __get__ later would make the class call it. */
static PyObject *
class_attribute(pyj_site_cache *cache, PyTypeObject *cls, PyObject *name)
{
    if (!has_version(cls)) {
        return NULL;
    }
    uint64_t key = (uint64_t)cls->tp_version_tag + PYJ_CLASS_KEY;
    for (int i = 0; i < PYJ_SITE_WAYS; i++) {
        pyj_site_entry *entry = &cache->way[i];
        if (entry->guard1 == key) {
            PyTypeObject *vt = Py_TYPE(entry->value);
            if (has_version(vt) && vt->tp_version_tag == entry->guard2) {
                return Py_NewRef(entry->value);
            }
            entry->guard1 = 0;      /* the value's type changed: look again */
            break;
        }
    }
    /* (a failed lookup is counted by record_attr after the generic one) */
    if (gave_up(cache) || !PyUnicode_CheckExact(name) || _PyType_Lookup(&PyType_Type, name) != NULL) {
        return NULL;
    }
    PyObject *value = _PyType_Lookup(cls, name);
    if (value == NULL || (Py_TYPE(value)->tp_descr_get != NULL && !PyFunction_Check(value))
        || !has_version(cls) || !has_version(Py_TYPE(value))) {
        return NULL;
    }
    record(cache, (uint64_t)cls->tp_version_tag + PYJ_CLASS_KEY, Py_TYPE(value)->tp_version_tag, value);
    return Py_NewRef(value);
}

int
pyj_op_load_attr_cached(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    pyj_site_cache *cache = (pyj_site_cache *)aux;
    PyObject *owner = TOP();
    PyObject *res = NULL;
    pyj_site_entry *entry = entry_for_type(cache, Py_TYPE(owner));
    PyObject *name = PyTuple_GET_ITEM(f->f_code->co_names, oparg);
    if (PyModule_CheckExact(owner)) {
        res = module_getattr(cache, owner, name);
        Py_DECREF(owner);
        TOP() = res;
        return res == NULL ? -1 : 0;
    }
    if (Py_IS_TYPE(owner, &PyType_Type)) {
        res = class_attribute(cache, (PyTypeObject *)owner, name);
    }
    if (entry != NULL && res == NULL) {
        if (entry->guard2 & PYJ_DICT_FLAG) {
            res = Py_XNewRef(instance_dict_value(owner, name,
                                                  entry->guard2 & ~(PYJ_DICT_FLAG | PYJ_MANAGED_FLAG)));
        }
        else {
            PyObject **slot = attribute_slot(entry, owner);
            res = slot != NULL ? Py_XNewRef(*slot) : NULL;
        }
    }
    if (res == NULL) {
        res = PyObject_GetAttr(owner, name);
        if (res != NULL) {
            record_attr(cache, owner, name, 0);
        }
    }
    Py_DECREF(owner);
    TOP() = res;
    return res == NULL ? -1 : 0;
}

/* A cached store into a slot or an inline value (a new inline value is
 * also added to the values' insertion order, as STORE_ATTR_INSTANCE_VALUE
 * does); one into an instance __dict__ is a dict store, which gives the
 * dict a new version. */
int
pyj_op_store_attr_cached(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    pyj_site_cache *cache = (pyj_site_cache *)aux;
    PyObject *owner = POP();
    PyObject *v = POP();
    pyj_site_entry *entry = entry_for_type(cache, Py_TYPE(owner));
    PyObject **slot = entry != NULL ? attribute_slot(entry, owner) : NULL;
    if (slot != NULL) {
        PyObject *old = *slot;
        *slot = v;                  /* the stack's reference moves in */
        if (old != NULL) {
            Py_DECREF(old);
        }
        else if (!(entry->guard2 & PYJ_SLOT_FLAG)) {
            /* a new inline value (as STORE_ATTR_INSTANCE_VALUE): the
             * instance dict's iteration order records it */
            _PyDictValues_AddToInsertionOrder(inline_values(owner), entry->guard2);
        }
        Py_DECREF(owner);
        return 0;
    }
    PyObject *name = PyTuple_GET_ITEM(f->f_code->co_names, oparg);
    if (entry != NULL && (entry->guard2 & PYJ_DICT_FLAG)) {
        /* no descriptor on the class (its version says): a dict store */
        PyDictObject *dict = instance_dict(owner);
        if (dict != NULL && PyDict_CheckExact(dict)) {
            int err = PyDict_SetItem((PyObject *)dict, name, v);
            Py_DECREF(v);
            Py_DECREF(owner);
            return err;
        }
    }
    int err = PyObject_SetAttr(owner, name, v);
    if (err == 0 && Py_TYPE(owner)->tp_setattro == PyObject_GenericSetAttr) {
        record_attr(cache, owner, name, 1);
    }
    Py_DECREF(v);
    Py_DECREF(owner);
    return err;
}

/* ----------------------------------------------------------- LOAD_METHOD */

/* A method found on the type is the answer while the type is unchanged and
 * the instance cannot shadow it: either instances have no attributes of
 * their own (guard2 = 0), or they keep them in inline values whose shared
 * keys do not hold the name (guard2 = number of shared keys + 1: keys are
 * only ever appended, so an unchanged count means still absent). */
static int
method_guard_holds(pyj_site_entry *entry, PyObject *obj, PyObject *name)
{
    if (entry->guard2 == 0) {
        return 1;
    }
    if (entry->guard2 & PYJ_DICT_FLAG) {
        /* instances with a __dict__: look the name up in it */
        PyDictObject *dict = instance_dict(obj);
        if (dict == NULL) {
            return (Py_TYPE(obj)->tp_flags & Py_TPFLAGS_MANAGED_DICT) == 0
                || inline_values(obj) == NULL || shared_key_index(Py_TYPE(obj), name) < 0;
        }
        if (!PyDict_CheckExact(dict) || PyDict_GetItemWithError((PyObject *)dict, name) != NULL) {
            return 0;
        }
        if (PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
        return 1;
    }
    PyTypeObject *tp = Py_TYPE(obj);
    return *_PyObject_ManagedDictPointer(obj) == NULL && inline_values(obj) != NULL
        && (uint64_t)((PyHeapTypeObject *)tp)->ht_cached_keys->dk_nentries + 1 == entry->guard2;
}

static void
record_method(pyj_site_cache *cache, PyObject *obj, PyObject *name, PyObject *meth)
{
    PyTypeObject *tp = Py_TYPE(obj);
    if (!has_version(tp) || tp->tp_getattro != PyObject_GenericGetAttr || !PyUnicode_CheckExact(name)
        || _PyType_Lookup(tp, name) != meth || entry_for_type(cache, tp) != NULL) {
        return;
    }
    uint64_t guard2;
    if (tp->tp_dictoffset == 0 && !(tp->tp_flags & Py_TPFLAGS_MANAGED_DICT)) {
        guard2 = 0;
    }
    else if ((tp->tp_flags & Py_TPFLAGS_MANAGED_DICT) && (tp->tp_flags & Py_TPFLAGS_HEAPTYPE)
             && *_PyObject_ManagedDictPointer(obj) == NULL && inline_values(obj) != NULL
             && ((PyHeapTypeObject *)tp)->ht_cached_keys != NULL
             && shared_key_index(tp, name) < 0) {
        guard2 = (uint64_t)((PyHeapTypeObject *)tp)->ht_cached_keys->dk_nentries + 1;
    }
    else if (instance_dict(obj) != NULL) {
        /* checked against the dict at each use (compiled code probes a
         * dict it finds before the object) */
        guard2 = PYJ_DICT_FLAG | ((tp->tp_flags & Py_TPFLAGS_MANAGED_DICT) ? PYJ_MANAGED_FLAG : 0);
    }
    else {
        return;
    }
    /* borrowed from the type's dict, guarded by its version */
    record(cache, tp->tp_version_tag, guard2, meth);
}

int
pyj_op_load_method_cached(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux)
{
    pyj_site_cache *cache = (pyj_site_cache *)aux;
    PyObject *obj = TOP();
    pyj_site_entry *entry = entry_for_type(cache, Py_TYPE(obj));
    PyObject *name = PyTuple_GET_ITEM(f->f_code->co_names, oparg);
    if (entry != NULL && method_guard_holds(entry, obj, name)) {
        TOP() = Py_NewRef(entry->value);
        sp[0] = obj;
        return 0;
    }
    if (PyModule_CheckExact(obj)) {
        /* [NULL, attr], as LOAD_METHOD_MODULE */
        PyObject *attr = module_getattr(cache, obj, name);
        Py_DECREF(obj);
        TOP() = NULL;
        if (attr == NULL) {
            return -1;
        }
        sp[0] = attr;
        return 0;
    }
    PyObject *meth = NULL;
    int is_method = _PyObject_GetMethod(obj, name, &meth);
    if (meth == NULL) {
        Py_DECREF(obj);
        TOP() = NULL;
        return -1;
    }
    if (is_method) {
        record_method(cache, obj, name, meth);
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
