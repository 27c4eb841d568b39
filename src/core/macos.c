/* SPDX-License-Identifier: MIT */
#include "macos.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>

#include "strutil.h"

int macos_version_parse(const char *s, unsigned *ret)
{
        unsigned major = 0, minor = 0;
        const char *p = s;
        if (!isdigit((unsigned char) *p))
                return -EINVAL;
        while (isdigit((unsigned char) *p)) {
                major = major * 10 + (unsigned) (*p++ - '0');
                if (major > 99)
                        return -EINVAL;
        }
        if (*p == '.') {
                p++;
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                while (isdigit((unsigned char) *p)) {
                        minor = minor * 10 + (unsigned) (*p++ - '0');
                        if (minor > 99)
                                return -EINVAL;
                }
                if (*p == '.') {
                        p++;
                        if (!isdigit((unsigned char) *p))
                                return -EINVAL;
                        while (isdigit((unsigned char) *p))
                                p++;
                }
        }
        if (*p)
                return -EINVAL;
        /* Releases are 10.x up to Catalina, then 11 ... 15 and 26 (named after the year). */
        if (major < 10 || (major == 10 && minor > 15) || (major > 15 && major < 26) ||
            (major > 10 && major < 26 && minor > 9 && major != 10))
                return -EINVAL;
        *ret = major * 100 + minor;
        return 0;
}

char *macos_version_format(unsigned v, char *out, size_t n)
{
        if (v / 100 == 10)
                snprintf(out, n, "10.%u", v % 100);
        else if (v % 100)
                snprintf(out, n, "%u.%u", v / 100, v % 100);
        else
                snprintf(out, n, "%u", v / 100);
        return out;
}
