#ifndef PYJION_HOST_SIGNALS_H
#define PYJION_HOST_SIGNALS_H
/* Save Python's SIGINT/SIGQUIT/SIGTERM dispositions before a runtime starts
 * and restore them after (host_signals.c).  0 on success, -1 on failure. */
int pyj_save_host_signals(void);
int pyj_restore_host_signals(void);
#endif
