/* Inline caches of compiled code: one pyj_site_cache per LOAD_GLOBAL,
 * LOAD_ATTR, STORE_ATTR, LOAD_METHOD and CALL site (a CALL site's is a
 * pyj_call_site, direct_call.h), in a block owned by the code
 * object's state (freed with it).  Compiled code checks the guards inline
 * (LOAD_GLOBAL: the first entry; the others: each of the ways, keyed by
 * type version, as a site may see several types, e.g. subclasses sharing a
 * method) and uses the result; on a miss, or for what only C can check (an
 * instance __dict__), it calls the site's helper here, which does the full
 * lookup and records the result when it is cacheable. */
#ifndef PYJION_SITE_CACHE_H
#define PYJION_SITE_CACHE_H
#include "cpython311.h"
#include <structmember.h>

typedef struct {
    /* LOAD_GLOBAL, first entry: where the name's entry is, so that
     *   compiled code reads the current value from it (rebinding a global
     *   does not invalidate it): guard2 is its index among the keys of
     *   globals, or of builtins with PYJ_BUILTIN_FLAG set, and then guard1
     *   is the dk_version of the globals' keys when the name was found
     *   absent from them (a keys version is unique and changes with any
     *   insertion or deletion).  Compiled code checks that the entry still
     *   holds the name (by identity: names are interned).
     * LOAD_GLOBAL, second entry: the ma_version_tag of globals and builtins
     *   when `value` was found; versions are unique across all dicts and
     *   states, so equal versions mean the same dicts, unchanged, and
     *   `value` (borrowed) is still what the lookup would return.  For
     *   builtins while the globals' keys have no version.
     * LOAD_ATTR, STORE_ATTR: the owner's type version (0: empty) and where
     *   the attribute is: the index in the instance's inline values, or
     *   the offset of a __slots__ member with PYJ_SLOT_FLAG set, or the
     *   index of its entry in the instance's __dict__ with PYJ_DICT_FLAG set
     *   (and PYJ_MANAGED_FLAG when the type's instances keep that dict
     *   pointer before the object: compiled code reads it then; stores are
     *   done in C).
     * LOAD_ATTR of a class (whose type is `type`): the class's own
     *   version with PYJ_CLASS_KEY added (so that no instance's type
     *   matches it), the version of the value's type, and the attribute
     *   found on the class (borrowed): a value that is not a descriptor, or
     *   a function (which a class hands out as itself).
     * LOAD_ATTR and LOAD_METHOD of a module (exactly ModuleType, which
     *   has nothing of the name), first entry: guard1 0, guard2 the index
     *   of the name's entry in the module's dict with PYJ_MODULE_FLAG set;
     *   compiled code checks that the entry still holds the name.
     * LOAD_METHOD: the type version, the shared-keys guard (site_cache.c)
     *   and the method found on the type (borrowed). */
    uint64_t guard1;
    uint64_t guard2;
    PyObject *value;
} pyj_site_entry;

#define PYJ_SITE_WAYS 4
#define PYJ_SLOT_FLAG ((uint64_t)1 << 62)
#define PYJ_DICT_FLAG ((uint64_t)1 << 61)
#define PYJ_MANAGED_FLAG ((uint64_t)1 << 60)
#define PYJ_BUILTIN_FLAG ((uint64_t)1 << 62)
#define PYJ_CLASS_KEY ((uint64_t)1 << 32)
#define PYJ_MODULE_FLAG ((uint64_t)1 << 59)

typedef struct {
    pyj_site_entry way[PYJ_SITE_WAYS];
    /* LOAD_ATTR, STORE_ATTR: lookups that found nothing to record; at
     * PYJ_RECORD_ATTEMPTS the site stops looking (site_cache.c) */
    uint32_t unrecorded;
} pyj_site_cache;

#define PYJ_RECORD_ATTEMPTS 32

/* A type's version tag if it is valid (results for the type can be keyed
 * by it), else 0. */
static inline unsigned int
pyj_type_version(PyTypeObject *tp)
{
    return (tp->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG) ? tp->tp_version_tag : 0;
}

int pyj_op_load_global_cached(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux);
int pyj_op_load_attr_cached(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux);
int pyj_op_store_attr_cached(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux);
int pyj_op_load_method_cached(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux);

#define SITE_CACHE_HELPERS HELPER(load_global_cached), HELPER(load_attr_cached), \
    HELPER(store_attr_cached), HELPER(load_method_cached),

#endif
