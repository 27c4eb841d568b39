/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Libraries loaded when first used. A module lists the symbols it needs once,
 * as an X-macro LIST(X, T) expanding X(T, name) for each, and gets a struct
 * with one typed pointer per symbol (functions and variables alike: a
 * variable's member points at it):
 *
 *   #define LIBFOO_SYMBOLS(X, T) X(T, foo_open) X(T, foo_close) X(T, foo_default)
 *   struct libfoo { LIBFOO_SYMBOLS(DLIB_MEMBER, _) };
 *   static struct libfoo foo;
 *   static struct dlib foo_lib = DLIB_INIT("libfoo", "libfoo.so.1", &foo, struct libfoo,
 *                                          LIBFOO_SYMBOLS);
 *   ... if (dlib_load(&foo_lib, reterr) < 0) ...; foo.foo_open(...); *foo.foo_default
 *
 * Release builds dlopen the library: linked, every run of darwinkvm would pay for
 * its start-up even when the verb never uses it. Sanitizer builds
 * (DKVM_DLOPEN_LIBS 0) link it and fill the same struct at link time, because
 * ASan resolves its interceptors (libvirt's XDR calls among them) at start-up,
 * before a dlopen'd library's dependencies exist.
 */

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "macro.h"

struct dlib {
        const char *name;   /* "libvirt", for messages */
        const char *soname; /* "libvirt.so.0" */
        void *syms;         /* the module's struct of pointers */
        const char *const *names;
        const size_t *offsets; /* of each pointer in *syms */
        void *const *linked;   /* link-time addresses (DKVM_DLOPEN_LIBS 0), else NULL */
        size_t n;
        bool loaded;
};

#define DLIB_MEMBER(T, f) DLSYM_MEMBER(f);
#define DLIB_NAME(T, f)   #f,
#define DLIB_OFFSET(T, f) offsetof(T, f),
#define DLIB_LINKED(T, f) (void *) &f,

#if DKVM_DLOPEN_LIBS
# define DLIB_LINKED_TABLE(list, T) NULL
#else
# define DLIB_LINKED_TABLE(list, T) ((void *const[]){ list(DLIB_LINKED, T) })
#endif

#define DLIB_INIT(lib, so, syms_ptr, T, list)                                                \
 {                                                                                           \
  .name = (lib), .soname = (so), .syms = (syms_ptr),                                         \
  .names = (const char *const[]){ list(DLIB_NAME, T) },                                      \
  .offsets = (const size_t[]){ list(DLIB_OFFSET, T) }, .linked = DLIB_LINKED_TABLE(list, T), \
  .n = sizeof((const char *const[]){ list(DLIB_NAME, T) }) / sizeof(char *),                 \
 }

/* Fills the struct once; -ENOENT with "libvirt is not installed (...)" or a missing symbol. */
int dlib_load(struct dlib *d, char **reterr);
