/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "alloc.h"
#include "host.h"
#include "strutil.h"
#include "strv.h"

#define CPUINFO_MAX (16u << 20)

static bool has_key(const char *line, const char *key, const char **ret_value)
{
        const char *p = startswith(line, key);
        if (!p)
                return false;
        while (*p == ' ' || *p == '\t')
                p++;
        if (*p != ':')
                return false;
        p++;
        while (*p == ' ' || *p == '\t')
                p++;
        *ret_value = p;
        return true;
}

/* Distinct values, kept small: sockets and cores of a host. */
struct id_set {
        long *v;
        size_t n, cap;
};

static void id_set_add(struct id_set *s, long v)
{
        for (size_t i = 0; i < s->n; i++)
                if (s->v[i] == v)
                        return;
        GROW(s->v, s->cap, s->n + 1);
        s->v[s->n++] = v;
}

void host_cpu_parse(const char *cpuinfo, size_t n, struct host_cpu *cpu)
{
        /* Host files may hold NUL bytes: work on a copy where they are blanks. */
        _cleanup_free_ char *text = xmalloc(n + 1);
        for (size_t i = 0; i < n; i++)
                text[i] = cpuinfo[i] ? cpuinfo[i] : ' ';
        text[n] = 0;

        unsigned processors = 0, siblings = 0;
        long physical_id = -1, core_id = -1, cpu_cores = -1;
        struct id_set sockets = { 0 }, cores = { 0 };
        long cores_per_socket = -1;
        char *line = text;
        while (line && *line) {
                char *next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                const char *v;
                if (has_key(line, "processor", &v)) {
                        processors++;
                        physical_id = core_id = -1;
                } else if (has_key(line, "vendor_id", &v)) {
                        if (!cpu->vendor_id)
                                cpu->vendor_id = str_printable(v, 64);
                } else if (has_key(line, "model name", &v)) {
                        if (!cpu->model_name)
                                /* "Intel(R) Xeon(R) CPU           X5680  @ 3.33GHz" */
                                cpu->model_name = str_squeeze_blanks(str_printable(v, 128));
                } else if (has_key(line, "cpu family", &v)) {
                        if (processors <= 1)
                                (void) parse_u32(v, &cpu->family);
                } else if (has_key(line, "model", &v)) {
                        if (processors <= 1)
                                (void) parse_u32(v, &cpu->model);
                } else if (has_key(line, "stepping", &v)) {
                        if (processors <= 1)
                                (void) parse_u32(v, &cpu->stepping);
                } else if (has_key(line, "physical id", &v)) {
                        int x;
                        if (parse_int(v, &x) == 0) {
                                physical_id = x;
                                id_set_add(&sockets, x);
                        }
                } else if (has_key(line, "core id", &v)) {
                        int x;
                        if (parse_int(v, &x) == 0)
                                core_id = x;
                } else if (has_key(line, "siblings", &v)) {
                        uint32_t x;
                        if (processors <= 1 && parse_u32(v, &x) == 0)
                                siblings = x;
                } else if (has_key(line, "cpu cores", &v)) {
                        int x;
                        if (parse_int(v, &x) == 0 && x > 0)
                                cores_per_socket = cpu_cores = x;
                } else if (has_key(line, "flags", &v)) {
                        if (!cpu->flags) {
                                cpu->flags = strv_split(v, " \t");
                                strv_sort(cpu->flags);
                        }
                }
                if (physical_id >= 0 && core_id >= 0) {
                        id_set_add(&cores, physical_id * 100000 + core_id);
                        core_id = -1;
                }
                line = next;
        }
        (void) cpu_cores;

        unsigned n_sockets = sockets.n ? (unsigned) sockets.n : 1;
        if (processors == 0 || !cpu->vendor_id) {
                cpu->error = xstrdup(processors == 0 ? "no 'processor' entries in /proc/cpuinfo"
                                                     : "no 'vendor_id' in /proc/cpuinfo");
        } else if (n > 0 && cpuinfo[n - 1] != '\n') {
                /* The kernel ends every block with a newline: anything else was cut short. */
                cpu->error =
                        xstrdup("/proc/cpuinfo is truncated (it ends in the middle of a line)");
        } else if (siblings && processors < siblings * n_sockets) {
                cpu->error = xasprintf("/proc/cpuinfo is truncated: %u processors listed, "
                                       "'siblings' says %u per package",
                                       processors, siblings);
        } else {
                cpu->logical = processors;
                cpu->sockets = n_sockets;
                if (cores.n)
                        cpu->cores = (unsigned) cores.n;
                else if (cores_per_socket > 0)
                        cpu->cores = (unsigned) cores_per_socket * cpu->sockets;
                else
                        cpu->cores = processors;
                if (cpu->cores > processors)
                        cpu->cores = processors;
                if (streq(cpu->vendor_id, "GenuineIntel"))
                        cpu->vendor = CPU_VENDOR_INTEL;
                else if (streq(cpu->vendor_id, "AuthenticAMD"))
                        cpu->vendor = CPU_VENDOR_AMD;
                else
                        cpu->vendor = CPU_VENDOR_OTHER;
                if (!cpu->model_name)
                        cpu->model_name = xstrdup(cpu->vendor_id);
                if (!cpu->flags)
                        cpu->flags = xcalloc(1, sizeof(char *));
        }
        free(sockets.v);
        free(cores.v);
}

void host_cpu_load(const struct root *root, struct host_cpu *cpu)
{
        _cleanup_free_ char *text = NULL;
        size_t n;
        int r = root_read_file(root, "/proc/cpuinfo", CPUINFO_MAX, &text, &n);
        if (r < 0) {
                cpu->error = xasprintf("cannot read /proc/cpuinfo: %s", strerror(-r));
                return;
        }
        host_cpu_parse(text, n, cpu);
}

bool host_cpu_has(const struct host_cpu *cpu, const char *flag)
{
        return strv_contains(cpu->flags, flag);
}
