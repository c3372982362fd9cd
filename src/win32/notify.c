/*
 * win32/notify.c - service-manager notifications on Windows: nothing to do.
 *
 * systemd's protocol (notify.h) does not exist here; the Windows service
 * reports its state to the service control manager through the up_run()
 * ready callback and its own control handler instead.
 */
#include "../error.h"
#include "../notify.h"

int up_notify_ready(void)
{
    return UP_OK;
}

int up_notify_stopping(void)
{
    return UP_OK;
}

int up_notify_reloading(void)
{
    return UP_OK;
}

int up_notify_journal_stderr(void)
{
    return 0; /* no journald on Windows */
}
