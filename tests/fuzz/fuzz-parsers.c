/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the parsers that read untrusted text: host files
 * (cpuinfo, meminfo), JSON (firmware descriptors), TSV (data files), macOS
 * versions, printable-string sanitising. The first byte picks the parser.
 */
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "host.h"
#include "json.h"
#include "macos.h"
#include "strutil.h"
#include "tsv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        uint8_t which = data[0] % 6;
        const char *text = (const char *) data + 1;
        size_t n = size - 1;
        /* Most parsers take NUL-terminated text, as read from a file. */
        char *s = xmalloc(n + 1);
        memcpy(s, text, n);
        s[n] = 0;
        switch (which) {
        case 0: {
                struct json_value *v = NULL;
                char *err = NULL;
                if (json_parse(text, n, &v, &err) == 0)
                        json_value_free(v);
                free(err);
                break;
        }
        case 1: {
                struct tsv *t = NULL;
                char *err = NULL;
                if (tsv_parse("fuzz.tsv", xstrdup(s), &t, &err) == 0)
                        tsv_free(t);
                free(err);
                break;
        }
        case 2: {
                struct host_cpu cpu = { 0 };
                host_cpu_parse(text, n, &cpu);
                host_cpu_release(&cpu);
                break;
        }
        case 3: {
                struct host_memory mem = { 0 };
                host_memory_parse(s, &mem);
                free(mem.error);
                break;
        }
        case 4: {
                unsigned v;
                char out[16];
                if (macos_version_parse(s, &v) == 0)
                        macos_version_format(v, out, sizeof(out));
                break;
        }
        default: {
                char *p = str_printable(s, 64);
                free(p);
                (void) utf8_is_valid(text, n);
                break;
        }
        }
        free(s);
        return 0;
}
