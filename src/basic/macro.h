/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The only place where GNU C extensions live: cleanup attributes, typeof and
 * statement expressions. Everything else in the tree is plain C11.
 */

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _unused_       __attribute__((unused))
#define _noreturn_     __attribute__((noreturn))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _pure_         __attribute__((pure))
#define _likely_(x)    __builtin_expect(!!(x), 1)
#define _unlikely_(x)  __builtin_expect(!!(x), 0)

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* A member holding a pointer to the function @f, typed as @f: for libraries loaded with dlopen. */
#define DLSYM_MEMBER(f) __typeof__(&f) f

/* Take ownership of a pointer: return it and leave NULL behind. */
#define TAKE_PTR(p)     \
 ({                     \
__typeof__(p) _taken_ = (p); \
(p) = NULL;                  \
_taken_;                     \
 })

#define TAKE_FD(fd) \
 ({                 \
int _taken_fd_ = (fd);   \
(fd) = -1;               \
_taken_fd_;              \
 })

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func) \
 static inline void func##p(type *p)            \
 {                                              \
  if (*p)                                       \
   func(*p);                                    \
 }

static inline void freep(void *p)
{
        free(*(void **) p);
}

static inline void closep(int *fd)
{
        if (*fd >= 0)
                close(*fd);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(FILE *, fclose)
DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir)

#define _cleanup_free_     _cleanup_(freep)
#define _cleanup_close_    _cleanup_(closep)
#define _cleanup_fclose_   _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)

static inline bool streq(const char *a, const char *b)
{
        return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

/* Returns the rest of @s after @prefix, or NULL when @s does not start with it. */
static inline const char *startswith(const char *s, const char *prefix)
{
        size_t l = strlen(prefix);
        return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

static inline bool endswith(const char *s, const char *suffix)
{
        size_t ls = strlen(s), lx = strlen(suffix);
        return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

static inline const char *strempty(const char *s)
{
        return s ? s : "";
}

static inline const char *strna(const char *s)
{
        return s && *s ? s : "n/a";
}

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
