/* SPDX-License-Identifier: MIT */
#include "smbios.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "strutil.h"
#include "strv.h"
#include "tsv.h"
#include "uuid.h"

static const char b34[] = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
/* Year letters of the 12-character layout: pairs (first half, second half) per year digit. */
static const char year_letters[] = "CDFGHJKLMNPQRSTVWXYZ";
static const char second_half_letters[] = "DGJLNQSVXZ";
/* Week characters of the 12-character layout, value = index + 1 (+26 in the second half). */
static const char week_chars[] = "123456789CDFGHJKLMNPQRTVWXY";
/* macserial's encoding table, indexed by the absolute week 1..53. */
static const char week_encode[] = "0123456789CDFGHJKLMNPQRTVWX123456789CDFGHJKLMNPQRTVWXY";
/* The MLB's week list (it holds S, Y and Z, unlike week_chars). */
static const char mlb_week_chars[] = "123456789CDFGHJKLMNPQRSTVWXYZ";

static int b34_value(char c)
{
        const char *p = c ? strchr(b34, c) : NULL;
        return p ? (int) (p - b34) : -1;
}

#define SERIAL_LINE_MAX (68 * 33 + 33 * 34 + 33)

/* ---- model table ---- */

int smbios_db_load(const char *data_dir, struct smbios_db **ret, char **reterr)
{
        _cleanup_free_ char *path = xasprintf("%s/macserial-models.tsv", data_dir);
        _cleanup_(tsv_freep) struct tsv *t = NULL;
        int r = tsv_load(path, 4u << 20, &t, reterr);
        if (r < 0)
                return r;
        static const char *const cols[] = { "model",
                                            "board_id",
                                            "apple_model_id(SecureBootModel)",
                                            "min_macos",
                                            "max_macos",
                                            "base_serial",
                                            "serial_len",
                                            "all_model_codes",
                                            "mlb_board_codes(EEE; first used)",
                                            "model_years",
                                            "macserial_preferred_year",
                                            "marketing_name",
                                            NULL };
        r = tsv_require_columns(t, cols, reterr);
        if (r < 0)
                return r;
        int c[12];
        for (size_t i = 0; i < 12; i++)
                c[i] = tsv_column(t, cols[i]);
        struct smbios_db *db = xcalloc(1, sizeof(*db));
        db->models = xcalloc(t->n_rows, sizeof(struct smbios_model));
        for (size_t i = 0; i < t->n_rows; i++) {
                struct smbios_model *m = &db->models[db->n_models++];
                m->name = tsv_field(t, i, c[0]);
                m->board_id = tsv_field(t, i, c[1]);
                m->apple_model = tsv_field(t, i, c[2]);
                m->min_macos = tsv_field(t, i, c[3]);
                m->max_macos = tsv_field(t, i, c[4]);
                m->base_serial = tsv_field(t, i, c[5]);
                m->serial_len = (unsigned) atoi(tsv_field(t, i, c[6]));
                m->codes = strv_split(tsv_field(t, i, c[7]), ",");
                m->board_codes = strv_split(tsv_field(t, i, c[8]), ",");
                _cleanup_(strv_freep) char **years = strv_split(tsv_field(t, i, c[9]), ",");
                for (size_t y = 0; years && years[y] && m->n_years < ELEMENTSOF(m->years); y++)
                        m->years[m->n_years++] = (unsigned) atoi(years[y]);
                m->preferred_year = (unsigned) atoi(tsv_field(t, i, c[10]));
                m->marketing = tsv_field(t, i, c[11]);
                if ((m->serial_len != 11 && m->serial_len != 12) || strlen(m->base_serial) < 3 ||
                    !m->codes || !m->codes[0] || m->n_years == 0) {
                        *reterr = xasprintf("%s: line %u: model %s: expected serial_len 11 or 12, "
                                            "a base serial, model codes and years",
                                            path, t->lines[i], m->name);
                        db->tsv = TAKE_PTR(t);
                        smbios_db_free(db);
                        return -EBADMSG;
                }
        }
        db->tsv = TAKE_PTR(t);
        *ret = db;
        return 0;
}

struct smbios_db *smbios_db_free(struct smbios_db *db)
{
        if (!db)
                return NULL;
        for (size_t i = 0; i < db->n_models; i++) {
                strv_free(db->models[i].codes);
                strv_free(db->models[i].board_codes);
        }
        free(db->models);
        tsv_free(db->tsv);
        free(db);
        return NULL;
}

const struct smbios_model *smbios_db_find(const struct smbios_db *db, const char *name)
{
        for (size_t i = 0; i < db->n_models; i++)
                if (strcasecmp(db->models[i].name, name) == 0)
                        return &db->models[i];
        return NULL;
}

static const struct smbios_model *find_by_code(const struct smbios_db *db, const char *code)
{
        for (size_t i = 0; i < db->n_models; i++)
                if (strv_contains(db->models[i].codes, code))
                        return &db->models[i];
        return NULL;
}

static const struct smbios_model *find_by_board_code(const struct smbios_db *db, const char *code)
{
        for (size_t i = 0; i < db->n_models; i++)
                if (strv_contains(db->models[i].board_codes, code))
                        return &db->models[i];
        return NULL;
}

/* ---- serials ---- */

static unsigned line_rmin(unsigned line)
{
        return line <= 1155 ? 0 : (line - 1155 + 67) / 68;
}

int smbios_make_serial(const struct smbios_model *m, unsigned year, unsigned week, unsigned line,
                       unsigned copy, char out[16], char **reterr)
{
        if (week < 1 || week > 53) {
                *reterr = xasprintf("week %u: expected 1..53", week);
                return -EINVAL;
        }
        if (line > SERIAL_LINE_MAX || copy < 1 || copy > 34) {
                *reterr = xasprintf("line %u copy %u: expected line 0..%u, copy 1..34", line, copy,
                                    SERIAL_LINE_MAX);
                return -EINVAL;
        }
        unsigned rr = line_rmin(line) + copy - 1;
        if (rr * 68 > line || rr > 33) {
                *reterr = xasprintf("line %u has no copy %u", line, copy);
                return -EINVAL;
        }
        char l3[4] = { b34[rr], b34[(line - 68 * rr) / 34], b34[(line - 68 * rr) % 34], 0 };
        const char *code = m->codes[0];
        if (m->serial_len == 12) {
                if (year < 2010 || year > 2029) {
                        *reterr = xasprintf("year %u: the 12-character layout covers 2010..2029",
                                            year);
                        return -EINVAL;
                }
                unsigned base = year >= 2020 ? 2020 : 2010;
                unsigned idx = (year - base) * 2 + (week >= 27 ? 1 : 0);
                snprintf(out, 16, "%.3s%c%c%s%s", m->base_serial, year_letters[idx],
                         week_encode[week], l3, code);
        } else {
                if (year < 2003 || year > 2012) {
                        *reterr = xasprintf("year %u: the 11-character layout covers 2003..2012",
                                            year);
                        return -EINVAL;
                }
                snprintf(out, 16, "%.2s%u%02u%s%.3s", m->base_serial, (year - 2000) % 10, week, l3,
                         code);
        }
        if (strlen(out) != m->serial_len) {
                *reterr = xasprintf("model %s: model code %s does not fit its %u-character serial",
                                    m->name, code, m->serial_len);
                return -EINVAL;
        }
        return 0;
}

int smbios_decode_serial(const struct smbios_db *db, const char *s, struct smbios_serial_info *ret,
                         char **reterr)
{
        size_t len = strlen(s);
        *ret = (struct smbios_serial_info){ .valid = true };
        if (len != 11 && len != 12) {
                *reterr = xasprintf("serial \"%s\": %zu characters, expected 11 or 12", s, len);
                return -EINVAL;
        }
#define PROBLEM(...)                                          \
 do {                                                         \
  if (ret->valid)                                             \
   snprintf(ret->problem, sizeof(ret->problem), __VA_ARGS__); \
  ret->valid = false;                                         \
 } while (0)
        for (size_t i = 0; i < len; i++)
                if (b34_value(s[i]) < 0)
                        PROBLEM("character '%c' is not in Apple's alphabet (0-9, A-Z without I, O)",
                                s[i]);
        bool modern = len == 12;
        snprintf(ret->code, sizeof(ret->code), "%s", s + 8);
        snprintf(ret->location, sizeof(ret->location), "%.*s", modern ? 3 : 2, s);
        ret->model = find_by_code(db, ret->code);
        if (!ret->model)
                PROBLEM("model code %s is unknown", ret->code);
        if (modern) {
                const char *yl = strchr(year_letters, s[3]);
                const char *wc = strchr(week_chars, s[4]);
                unsigned digit = 0;
                bool second = false;
                if (!yl || !s[3])
                        PROBLEM("year letter '%c' is invalid", s[3]);
                else {
                        unsigned idx = (unsigned) (yl - year_letters);
                        digit = idx / 2;
                        second = idx % 2;
                        bool base2020 = (ret->model && ret->model->years[0] >= 2017 && digit < 7) ||
                                        (digit == 0 && ret->code[0] >= 'H');
                        ret->year = (base2020 ? 2020 : 2010) + digit;
                }
                if (!wc || !s[4])
                        PROBLEM("week character '%c' is invalid", s[4]);
                else
                        ret->week = (unsigned) (wc - week_chars) + 1 + (second ? 26 : 0);
        } else {
                if (s[2] < '0' || s[2] > '9')
                        PROBLEM("year digit '%c' is invalid", s[2]);
                else
                        ret->year = s[2] <= '2' ? 2010u + (unsigned) (s[2] - '0')
                                                : 2000u + (unsigned) (s[2] - '0');
                if (s[3] < '0' || s[3] > '9' || s[4] < '0' || s[4] > '9')
                        PROBLEM("week \"%.2s\" is not two digits", s + 3);
                else {
                        ret->week = (unsigned) (s[3] - '0') * 10 + (unsigned) (s[4] - '0');
                        if (ret->week < 1 || ret->week > 53)
                                PROBLEM("week %u is outside 1..53", ret->week);
                }
        }
        if (ret->model && ret->year) {
                bool found = false;
                for (size_t i = 0; i < ret->model->n_years; i++)
                        found |= ret->model->years[i] == ret->year;
                if (!found)
                        PROBLEM("year %u is not a production year of %s", ret->year,
                                ret->model->name);
        }
        int a = b34_value(s[5]), b = b34_value(s[6]), c = b34_value(s[7]);
        if (a < 0 || b < 0 || c < 0)
                PROBLEM("production line \"%.3s\" is not base-34", s + 5);
        else {
                ret->line = (unsigned) (a * 68 + b * 34 + c);
                ret->copy = (unsigned) a - line_rmin(ret->line) + 1;
        }
#undef PROBLEM
        return 0;
}

/* ---- MLB ---- */

bool smbios_mlb_checksum_ok(const char *mlb)
{
        size_t len = strlen(mlb);
        unsigned sum = 0;
        for (size_t i = 0; i < len; i++) {
                int v = b34_value(mlb[i]);
                if (v < 0)
                        return false;
                sum += (unsigned) v * ((i % 2) == (len % 2) ? 3 : 1);
        }
        return sum % 34 == 0;
}

void smbios_decode_mlb(const struct smbios_db *db, const char *mlb, struct smbios_mlb_info *ret)
{
        size_t len = strlen(mlb);
        *ret = (struct smbios_mlb_info){ 0 };
        ret->length_ok = len == 13 || len == 17;
        ret->checksum_ok = smbios_mlb_checksum_ok(mlb);
        if (len == 17 || len == 13) {
                ret->year_digit = (unsigned) (mlb[len == 17 ? 3 : 2] - '0');
                const char *w = mlb + (len == 17 ? 4 : 3);
                if (w[0] >= '0' && w[0] <= '9' && w[1] >= '0' && w[1] <= '9')
                        ret->week = (unsigned) (w[0] - '0') * 10 + (unsigned) (w[1] - '0');
                char code[5] = { 0 };
                memcpy(code, mlb + (len == 17 ? 11 : 9), len == 17 ? 4 : 3);
                ret->model = find_by_board_code(db, code);
        }
}

static const char *const mlb_b1[] = { "200", "600", "403", "404", "405", "303", "108",
                                      "207", "609", "501", "306", "102", "701", "301",
                                      "501", "101", "300", "130", "100", "270", "310",
                                      "902", "104", "401", "902", "500", "700", "802" };
static const char *const mlb_b2[] = { "GU", "4N", "J9", "QX", "OP", "CD", "GU" };
static const char *const mlb_b3[] = { "1H", "1M", "AD", "1F", "A8", "UE",
                                      "JA", "JC", "8C", "CB", "FB" };

int smbios_make_mlb(const struct smbios_db *db, const char *serial, struct rng *r, char out[20],
                    char **reterr)
{
        size_t len = strlen(serial);
        if (len != 11 && len != 12) {
                *reterr = xasprintf("serial \"%s\": expected 11 or 12 characters", serial);
                return -EINVAL;
        }
        bool modern = len == 12;
        const struct smbios_model *m = find_by_code(db, serial + 8);
        if (!m)
                m = &db->models[db->n_models - 1]; /* macserial: the last model */
        int year = 0, week = 0;
        if (modern) {
                const char *yl = strchr(year_letters, serial[3]);
                const char *wc = strchr(mlb_week_chars, serial[4]);
                if (!yl || !wc || !serial[3] || !serial[4]) {
                        *reterr =
                                xasprintf("serial \"%s\": year or week character invalid", serial);
                        return -EINVAL;
                }
                year = (int) (yl - year_letters) / 2;
                week = (strchr(second_half_letters, serial[3]) ? 27 : 0) + 1 +
                       (int) (wc - mlb_week_chars);
        } else {
                if (serial[2] < '0' || serial[2] > '9' || serial[3] < '0' || serial[3] > '9' ||
                    serial[4] < '0' || serial[4] > '9') {
                        *reterr = xasprintf("serial \"%s\": year or week not digits", serial);
                        return -EINVAL;
                }
                year = serial[2] - '0';
                week = (serial[3] - '0') * 10 + (serial[4] - '0');
        }
        week--;
        if (week <= 0) {
                week = 53;
                year = year == 0 ? 9 : year - 1;
        }
        const char *board =
                m->board_codes && m->board_codes[0] ? m->board_codes[0] : (modern ? "0000" : "000");
        char tmp[64];
        for (unsigned attempt = 0; attempt < 100000; attempt++) {
                if (modern) {
                        snprintf(tmp, sizeof(tmp), "%.3s%d%02d%s%s%.4s%s", serial, year, week,
                                 mlb_b1[rng_uniform(r, ELEMENTSOF(mlb_b1))],
                                 mlb_b2[rng_uniform(r, ELEMENTSOF(mlb_b2))], board,
                                 mlb_b3[rng_uniform(r, ELEMENTSOF(mlb_b3))]);
                } else {
                        uint32_t v;
                        do
                                v = (uint32_t) ((uint64_t) rng_uniform(r, 0x7FFF) * 0x73BA1Cu);
                        while (v < 1000000);
                        while (v > 10000000)
                                v /= 10;
                        char digits[16];
                        int n = 0;
                        for (uint32_t x = v; x > 0; x /= 34)
                                digits[n++] = b34[x % 34];
                        char code[4] = { digits[n - 1], digits[n - 2], digits[n - 3], 0 };
                        snprintf(tmp, sizeof(tmp), "%.2s%d%02d0%s%.3s%c", serial, year, week, code,
                                 board, b34[rng_uniform(r, 34)]);
                }
                if (strlen(tmp) == (modern ? 17u : 13u) && smbios_mlb_checksum_ok(tmp)) {
                        memcpy(out, tmp, strlen(tmp) + 1);
                        return 0;
                }
        }
        *reterr = xasprintf("serial \"%s\": no MLB with a valid checksum found", serial);
        return -EINVAL;
}

/* ---- identity ---- */

/* Apple OUIs (IEEE registry), as GenSMBIOS uses for the ROM's first three bytes. */
static const uint8_t apple_ouis[][3] = {
        { 0x00, 0x03, 0x93 }, { 0x00, 0x0A, 0x27 }, { 0x00, 0x0A, 0x95 },
        { 0x00, 0x10, 0xFA }, { 0x00, 0x17, 0xF2 }, { 0x00, 0x1E, 0xC2 },
        { 0x00, 0x26, 0xBB }, { 0x00, 0x30, 0x65 }, { 0x04, 0x15, 0x52 },
};

int smbios_generate(const struct smbios_db *db, const struct smbios_model *m, struct rng *r,
                    unsigned year, unsigned week, struct smbios_identity *ret, char **reterr)
{
        *ret = (struct smbios_identity){ 0 };
        snprintf(ret->model, sizeof(ret->model), "%s", m->name);
        for (unsigned attempt = 0;; attempt++) {
                unsigned y = year                ? year
                             : m->preferred_year ? m->preferred_year
                                                 : m->years[rng_uniform(r, (uint32_t) m->n_years)];
                unsigned w = week ? week : 1 + rng_uniform(r, 52);
                unsigned line = rng_uniform(r, SERIAL_LINE_MAX + 1);
                int k = smbios_make_serial(m, y, w, line, 1, ret->serial, reterr);
                if (k < 0)
                        return k;
                if (!smbios_denied(ret->serial) || attempt > 100)
                        break;
        }
        int k = smbios_make_mlb(db, ret->serial, r, ret->mlb, reterr);
        if (k < 0)
                return k;
        struct uuid u;
        uuid_random(r, &u);
        uuid_format(&u, ret->uuid);
        memcpy(ret->rom, apple_ouis[rng_uniform(r, ELEMENTSOF(apple_ouis))], 3);
        rng_bytes(r, ret->rom + 3, 3);
        return 0;
}

/* Identities shipped to every user by other projects (peers.md) and the public samples. */
static const struct {
        const char *value, *why;
} denied[] = {
        { "C02FPBZPHX87", "the serial in OSX-KVM's prebuilt OpenCore image" },
        { "C07W10D9JYVX", "the default serial ULTMOS ships" },
        { "W00000000001", "OpenCore's Sample.plist placeholder serial" },
        { "M0000000000000001", "OpenCore's Sample.plist placeholder MLB" },
        { "F5K105303J9K3F71M", "macrecovery's built-in MLB" },
        { "F5K00000000K3F700", "macrecovery's built-in MLB" },
        { "00000000000000000", "an all-zero MLB" },
        { "00000000-0000-0000-0000-000000000000", "the all-zero SystemUUID" },
};

const char *smbios_denied(const char *value)
{
        for (size_t i = 0; i < ELEMENTSOF(denied); i++)
                if (strcasecmp(value, denied[i].value) == 0)
                        return denied[i].why;
        return NULL;
}

int smbios_apply(struct pl_node *config, const struct smbios_identity *id, bool force,
                 char **reterr)
{
        if (!pl_is(config, PL_DICT)) {
                *reterr = xstrdup("the config's root is not a dict");
                return -EINVAL;
        }
        const char *values[] = { id->serial, id->mlb, id->uuid };
        for (size_t i = 0; i < ELEMENTSOF(values) && !force; i++) {
                const char *why = smbios_denied(values[i]);
                if (why) {
                        *reterr = xasprintf("%s is %s, shared by many machines (--force to use "
                                            "it anyway)",
                                            values[i], why);
                        return -EPERM;
                }
        }
        struct pl_node *g =
                pl_dict_ensure_dict(pl_dict_ensure_dict(config, "PlatformInfo"), "Generic");
        pl_dict_set(g, "MLB", pl_new_string(id->mlb));
        pl_dict_set(g, "ROM", pl_new_data(id->rom, sizeof(id->rom)));
        pl_dict_set(g, "SystemProductName", pl_new_string(id->model));
        pl_dict_set(g, "SystemSerialNumber", pl_new_string(id->serial));
        pl_dict_set(g, "SystemUUID", pl_new_string(id->uuid));
        return 0;
}
