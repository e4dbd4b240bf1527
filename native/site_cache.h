/* Inline caches of compiled code: one pyj_site_cache per LOAD_GLOBAL,
 * LOAD_ATTR and LOAD_METHOD site, in a block owned by the code object's
 * state (freed with it).  Compiled code checks a guard inline and uses the
 * cached result; on a miss it calls the site's helper here, which does the
 * full lookup and refills the cache when the result is cacheable. */
#ifndef PYJION_SITE_CACHE_H
#define PYJION_SITE_CACHE_H
#include "cpython311.h"

typedef struct {
    /* LOAD_GLOBAL: ma_version_tag of globals and builtins when `value` was
     *   found; versions are unique across all dicts and states, so equal
     *   versions mean the same dicts, unchanged, and `value` (borrowed) is
     *   still what the lookup would return.
     * LOAD_ATTR, STORE_ATTR: the owner's type version (0: empty) and the
     *   index of the attribute in the instance's inline values.
     * LOAD_METHOD: the type version, the shared-keys guard (site_cache.c)
     *   and the method found on the type (borrowed). */
    uint64_t guard1;
    uint64_t guard2;
    PyObject *value;
} pyj_site_cache;

int pyj_op_load_global_cached(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux);
int pyj_op_load_attr_cached(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux);
int pyj_op_store_attr_cached(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux);
int pyj_op_load_method_cached(PyjFrame *f, PyObject **sp, int oparg, PyObject *aux);

#define SITE_CACHE_HELPERS HELPER(load_global_cached), HELPER(load_attr_cached), \
    HELPER(store_attr_cached), HELPER(load_method_cached),

#endif
