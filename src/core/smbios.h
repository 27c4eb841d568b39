/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A guest's Mac identity as macserial makes it: serial numbers in Apple's two
 * layouts (11 characters before 2010, 12 after; base-34 without I and O),
 * board serials (MLB, 13 or 17 characters, with a mod-34 checksum), a random
 * SystemUUID and a ROM (6 bytes with an Apple OUI). Per-model facts come from
 * data/macserial-models.tsv. Serials that other projects ship as a shared
 * default are refused unless forced: many guests with one identity break
 * Apple's services for all of them.
 */

#include <stdbool.h>
#include <stdint.h>

#include "plist.h"
#include "random.h"

struct smbios_model {
        const char *name;        /* "MacPro7,1" */
        const char *board_id;    /* "Mac-27AD2F918AE68F61" */
        const char *apple_model; /* SecureBootModel, "J160" or "" */
        const char *base_serial; /* location prefix source */
        const char *min_macos;   /* "10.15.1" */
        const char *max_macos;   /* "14.7" or "latest" */
        const char *marketing;   /* "Mac Pro (2019)" or "" */
        unsigned serial_len;     /* 11 or 12 */
        char **codes;            /* model codes, first = macserial's default */
        char **board_codes;      /* MLB board codes, first used */
        unsigned years[16];
        size_t n_years;
        unsigned preferred_year; /* 0: none */
};

struct smbios_db {
        struct smbios_model *models;
        size_t n_models;
        void *tsv; /* backing storage */
};

int smbios_db_load(const char *data_dir, struct smbios_db **ret, char **reterr);
struct smbios_db *smbios_db_free(struct smbios_db *db);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct smbios_db *, smbios_db_free)
const struct smbios_model *smbios_db_find(const struct smbios_db *db, const char *name);

struct smbios_identity {
        char model[32];
        char serial[16];
        char mlb[20];
        char uuid[37];
        uint8_t rom[6];
};

/* @year/@week 0: as macserial picks them. */
int smbios_generate(const struct smbios_db *db, const struct smbios_model *m, struct rng *r,
                    unsigned year, unsigned week, struct smbios_identity *ret, char **reterr);
/* The serial alone (line 0..3399, copy 1..34). */
int smbios_make_serial(const struct smbios_model *m, unsigned year, unsigned week, unsigned line,
                       unsigned copy, char out[16], char **reterr);
int smbios_make_mlb(const struct smbios_db *db, const char *serial, struct rng *r, char out[20],
                    char **reterr);

struct smbios_serial_info {
        bool valid;                       /* macserial's "Possibly" */
        const struct smbios_model *model; /* NULL: unknown model code */
        char code[8];
        char location[4];
        unsigned year, week, line, copy;
        char problem[128]; /* why it is not valid, "" when valid */
};

/* Fails (-EINVAL) only for a length other than 11 or 12. */
int smbios_decode_serial(const struct smbios_db *db, const char *serial,
                         struct smbios_serial_info *ret, char **reterr);

struct smbios_mlb_info {
        bool length_ok; /* 13 (legacy) or 17 (modern) */
        bool checksum_ok;
        const struct smbios_model *model; /* from the board code, NULL when unknown */
        unsigned year_digit, week;
};

bool smbios_mlb_checksum_ok(const char *mlb);
void smbios_decode_mlb(const struct smbios_db *db, const char *mlb, struct smbios_mlb_info *ret);

/* A serial, MLB or UUID that other projects ship to everyone: the reason, or NULL. */
const char *smbios_denied(const char *value);

/* Writes the identity into PlatformInfo.Generic (creating dicts as needed). */
int smbios_apply(struct pl_node *config, const struct smbios_identity *id, bool force,
                 char **reterr);
