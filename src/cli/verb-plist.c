/* SPDX-License-Identifier: MIT */
#include <fcntl.h>

#include "alloc.h"
#include "cli.h"
#include "json.h"
#include "output.h"
#include "plist.h"

/* A plist value as JSON: data as base64, dates as their XML text. */
static void json_put_plist(struct json_writer *w, const struct pl_node *n)
{
        switch (pl_type(n)) {
        case PL_DICT:
                json_begin_object(w);
                for (size_t i = 0; i < pl_count(n); i++) {
                        json_key(w, pl_dict_key_at(n, i));
                        json_put_plist(w, pl_dict_value_at(n, i));
                }
                json_end_object(w);
                break;
        case PL_ARRAY:
                json_begin_array(w);
                for (size_t i = 0; i < pl_count(n); i++)
                        json_put_plist(w, pl_array_get(n, i));
                json_end_array(w);
                break;
        case PL_INTEGER: {
                int64_t v = 0;
                pl_get_integer(n, &v);
                json_int(w, v);
                break;
        }
        case PL_BOOL: {
                bool v = false;
                pl_get_bool(n, &v);
                json_bool(w, v);
                break;
        }
        case PL_DATA: {
                size_t len;
                const uint8_t *p = pl_data(n, &len);
                _cleanup_free_ char *b64 = pl_base64_encode(p, len);
                json_string(w, b64);
                break;
        }
        default: {
                _cleanup_free_ char *s = pl_value_to_text(n);
                json_string(w, s);
                break;
        }
        }
}

static int load(const char *path, struct pl_node **ret, enum pl_format *fmt)
{
        _cleanup_free_ char *err = NULL;
        if (pl_load_file(AT_FDCWD, path, 0, ret, fmt, &err) < 0)
                return cli_error(EXIT_USAGE, "%s", err);
        return 0;
}

static int save(const struct cli_args *args, const struct pl_node *root, const char *path,
                enum pl_format fmt)
{
        const char *f = cli_arg(args, "format");
        if (f) {
                int v = pl_format_from_string(f);
                if (v < 0)
                        return cli_error(EXIT_USAGE, "--format %s: expected xml or binary", f);
                fmt = (enum pl_format) v;
        }
        const char *out = cli_arg(args, "output");
        if (out && streq(out, "-")) {
                _cleanup_free_ char *data = NULL, *err = NULL;
                size_t len = 0;
                if (pl_serialize(root, fmt, &data, &len, &err) < 0)
                        return cli_error(EXIT_USAGE, "%s", err);
                if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
                        return cli_error(EXIT_ENV, "cannot write to stdout");
                return EXIT_OK;
        }
        _cleanup_free_ char *err = NULL;
        int r = pl_save_file(root, fmt, AT_FDCWD, out ? out : path, &err);
        if (r == -EINVAL || r == -ERANGE)
                return cli_error(EXIT_USAGE, "%s", err);
        if (r < 0)
                return cli_error(EXIT_ENV, "%s", err);
        return EXIT_OK;
}

static int value_from_args(const struct cli_args *args, const struct pl_node *existing,
                           const char *text, struct pl_node **ret)
{
        const char *t = cli_arg(args, "type");
        int type = PL_STRING;
        if (t) {
                type = pl_type_from_string(t);
                if (type < 0)
                        return cli_error(EXIT_USAGE,
                                         "--type %s: expected string, integer, bool, data, date, "
                                         "real, dict or array",
                                         t);
        } else if (existing)
                type = pl_type(existing);
        if (!text) {
                if (type != PL_DICT && type != PL_ARRAY)
                        return cli_error(EXIT_USAGE, "a VALUE is needed for a %s",
                                         pl_type_to_string((enum pl_type) type));
                text = "";
        }
        _cleanup_free_ char *err = NULL;
        if (pl_value_from_text((enum pl_type) type, text, ret, &err) < 0)
                return cli_error(EXIT_USAGE, "%s", err);
        return 0;
}

/* Dicts merge key by key (recursively); anything else in @src replaces. */
static void merge_into(struct pl_node *dst, const struct pl_node *src)
{
        for (size_t i = 0; i < pl_count(src); i++) {
                const char *k = pl_dict_key_at(src, i);
                const struct pl_node *v = pl_dict_value_at(src, i);
                struct pl_node *d = pl_dict_get(dst, k);
                if (pl_is(d, PL_DICT) && pl_is(v, PL_DICT))
                        merge_into(d, v);
                else
                        pl_dict_set(dst, k, pl_copy(v));
        }
}

int verb_plist(struct cli_context *ctx, const struct cli_args *args)
{
        char *const *pos = args->positional;
        const char *cmd = pos[0];
        size_t n = 0;
        while (pos[n])
                n++;
        if (n < 2)
                return cli_usage_error(ctx, "expected a command and a FILE");
        const char *file = pos[1];
        const char *path = n > 2 ? pos[2] : "";
        const char *value = n > 3 ? pos[3] : NULL;
        bool writes = streq(cmd, "set") || streq(cmd, "add") || streq(cmd, "delete");
        if (!writes && !streq(cmd, "get") && !streq(cmd, "convert") && !streq(cmd, "merge"))
                return cli_usage_error(ctx,
                                       "unknown command '%s' (get, set, add, delete, convert, "
                                       "merge)",
                                       cmd);
        if ((streq(cmd, "set") || streq(cmd, "delete")) && n < 3)
                return cli_usage_error(ctx, "%s needs FILE PATH", cmd);
        if (streq(cmd, "set") && n < 4 && !cli_arg(args, "type"))
                return cli_usage_error(ctx, "set needs FILE PATH VALUE");
        if (streq(cmd, "merge") && n != 3)
                return cli_usage_error(ctx, "merge needs FILE OTHER");
        if ((streq(cmd, "get") || streq(cmd, "convert") || streq(cmd, "delete")) && n > 3)
                return cli_usage_error(ctx, "too many arguments for %s", cmd);

        _cleanup_pl_ struct pl_node *root = NULL;
        enum pl_format fmt = PL_FORMAT_XML;
        int r = load(file, &root, &fmt);
        if (r != 0)
                return r;
        _cleanup_free_ char *err = NULL;

        if (streq(cmd, "get")) {
                struct pl_node *node = NULL;
                if (pl_path_get(root, path, &node, &err) < 0)
                        return cli_error(EXIT_PROBLEM, "%s: %s", file, err);
                if (ctx->json) {
                        struct json_writer w;
                        out_json_begin(ctx, &w);
                        json_put_plist(&w, node);
                        return out_json_end(&w);
                }
                _cleanup_free_ char *text = pl_value_to_text(node);
                if (pl_is(node, PL_DICT) || pl_is(node, PL_ARRAY))
                        return cli_write(text);
                printf("%s\n", text);
                return EXIT_OK;
        }
        if (streq(cmd, "convert")) /* without --format: to the other format */
                return save(args, root, file,
                            fmt == PL_FORMAT_XML ? PL_FORMAT_BINARY : PL_FORMAT_XML);
        if (streq(cmd, "merge")) {
                _cleanup_pl_ struct pl_node *other = NULL;
                r = load(path, &other, NULL);
                if (r != 0)
                        return r;
                if (!pl_is(root, PL_DICT) || !pl_is(other, PL_DICT))
                        return cli_error(EXIT_USAGE, "merge: both roots must be dicts");
                merge_into(root, other);
                return save(args, root, file, fmt);
        }
        if (streq(cmd, "delete")) {
                r = pl_path_delete(root, path, &err);
        } else {
                struct pl_node *existing = NULL;
                _cleanup_free_ char *ignored = NULL;
                if (streq(cmd, "set"))
                        (void) pl_path_get(root, path, &existing, &ignored);
                struct pl_node *v = NULL;
                r = value_from_args(args, existing, value, &v);
                if (r != 0)
                        return r;
                r = streq(cmd, "set") ? pl_path_set(root, path, v, &err)
                                      : pl_path_add(root, path, v, &err);
        }
        if (r < 0)
                return cli_error(EXIT_PROBLEM, "%s: %s", file, err);
        return save(args, root, file, fmt);
}
