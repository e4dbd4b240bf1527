#ifndef PYJION_STARTUP_OBJECTS_H
#define PYJION_STARTUP_OBJECTS_H
/* Keeping the objects a runtime start-up leaves behind out of the cyclic
 * collector's way (startup_objects.c).
 *
 * pyj_startup_objects_begin: sets the collector's generations aside, so
 * that every container tracked from now on is one the start-up made; 1 if
 * it did, 0 if it could not (another thread, a collection running) and
 * nothing changed.
 * pyj_startup_objects_end(freeze): after a begin that returned 1: the
 * containers made since go to the permanent generation (freeze = 1), as
 * gc.freeze() would put them, or back into the generations (freeze = 0),
 * and the generations set aside are put back. */
int pyj_startup_objects_begin(void);
void pyj_startup_objects_end(int freeze);
#endif
