/* fuzz_config.c - libFuzzer target for the config file parser (config.c).
 * The input is the whole file; it is not NUL-terminated, so any read past
 * its end is caught by ASan. Build: `make fuzz`. */
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "log.h"
#include "options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct up_options o;
    char err[700];
    up_log_set_level(UP_LOG_FATAL);
    up_options_defaults(&o);
    if (up_config_parse(&o, (const char *)data, size, "fuzz.conf", err, sizeof(err)) == 0)
        (void)up_options_check(&o, err, sizeof(err));
    return 0;
}
