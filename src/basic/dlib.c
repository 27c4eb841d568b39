/* SPDX-License-Identifier: MIT */
#include "dlib.h"

#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#include "alloc.h"

int dlib_load(struct dlib *d, char **reterr)
{
        if (d->loaded)
                return 0;
        void *h = NULL;
        if (!d->linked) {
                h = dlopen(d->soname, RTLD_NOW | RTLD_LOCAL);
                if (!h) {
                        *reterr = xasprintf("%s is not installed (%s)", d->name, dlerror());
                        return -ENOENT;
                }
        }
        for (size_t i = 0; i < d->n; i++) {
                void *p = d->linked ? d->linked[i] : dlsym(h, d->names[i]);
                if (!p) {
                        *reterr = xasprintf("%s lacks %s", d->soname, d->names[i]);
                        if (h)
                                dlclose(h);
                        return -ENOENT;
                }
                /* POSIX: a function pointer converts to and from void *, as dlsym needs. */
                memcpy((char *) d->syms + d->offsets[i], &p, sizeof(p));
        }
        d->loaded = true;
        return 0;
}
