/* posix/service.c - `udp-proxy service` where there is no Windows SCM (see service.h). */
#include <stdio.h>

#include "../service.h"

int up_service_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "udp-proxy: 'service' is only available on Windows; on this system run udp-proxy under\n"
                    "your init system instead (for example a systemd unit that runs 'udp-proxy --target ...').\n");
    return 2;
}
