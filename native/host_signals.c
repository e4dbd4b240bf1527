/* Signal dispositions across the start of a hosted runtime.
 *
 * CoreCLR installs its own handlers for SIGINT, SIGQUIT and SIGTERM when it
 * starts.  Its SIGINT handler passes the signal on to Python's asynchronously,
 * from another thread, so KeyboardInterrupt would arrive late (under load,
 * after the code that was interrupted has moved on), and its SIGTERM handler
 * replaces the default termination.  The host keeps Python's dispositions:
 * they are saved before the runtime starts and put back after.  The fault
 * signals (SIGSEGV, SIGFPE, ...) stay with the runtime, which needs them.
 */
#include <signal.h>
#include <string.h>
#include "host_signals.h"

static const int g_signals[] = {SIGINT, SIGQUIT, SIGTERM};
#define N_SIGNALS ((int)(sizeof(g_signals) / sizeof(g_signals[0])))
static struct sigaction g_saved[N_SIGNALS];
static int g_have_saved;

int
pyj_save_host_signals(void)
{
    for (int i = 0; i < N_SIGNALS; i++) {
        if (sigaction(g_signals[i], NULL, &g_saved[i]) != 0) {
            return -1;
        }
    }
    g_have_saved = 1;
    return 0;
}

int
pyj_restore_host_signals(void)
{
    if (!g_have_saved) {
        return -1;
    }
    for (int i = 0; i < N_SIGNALS; i++) {
        if (sigaction(g_signals[i], &g_saved[i], NULL) != 0) {
            return -1;
        }
    }
    return 0;
}
