/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for vm.conf, the hand-edited file: parsing never crashes,
 * and a spec that parses formats back to text that parses to the same text.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "vmspec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = xmalloc(size + 1);
        memcpy(text, data, size);
        text[size] = 0;
        struct vmspec *s = NULL;
        char *err = NULL;
        if (vmspec_parse("fuzz.conf", text, &s, &err) == 0) {
                char *once = vmspec_format(s);
                struct vmspec *again = NULL;
                char *err2 = NULL;
                if (vmspec_parse("fuzz.conf", once, &again, &err2) != 0)
                        abort();
                char *twice = vmspec_format(again);
                if (strcmp(once, twice) != 0)
                        abort();
                free(twice);
                free(once);
                vmspec_free(again);
                vmspec_free(s);
        }
        free(err);
        free(text);
        return 0;
}
