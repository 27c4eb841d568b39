/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The one mechanism for every write to host configuration. A verb collects its
 * edits in a change set (path -> new content, plus the commands that must run
 * afterwards); journal_apply() shows the unified diff, and unless this is a dry
 * run writes a journal entry with a backup of every file's previous bytes
 * BEFORE touching a target, writes each target atomically (keeping owner and
 * mode), marks the entry complete and runs the commands.
 *
 * Layout under the root: /var/lib/darwinkvm/journal/NNNN/ holds `entry` (what
 * was changed), `state` (pending, complete, undone), K.old (the previous bytes
 * of file K, absent when darwinkvm created it) and K.new (what darwinkvm wrote,
 * to tell whether someone changed the file since). A crash at any point leaves
 * every file either old or new, and a pending entry that `host undo` rolls
 * back like a complete one.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "root.h"

#define JOURNAL_DIR "/var/lib/darwinkvm/journal"

/* How host preparation runs: on which tree, for real or as a dry run, and what it reports. */
struct prep {
        const struct root *root;
        bool dry_run;    /* show the diffs and commands, write nothing */
        bool print_only; /* commands are only shown (a dry run, or a root other than /) */
        char **log;      /* what was done or would be done, one line each */
        struct buf diff; /* the unified diffs of the changes */
        long long now;   /* time stamp for entries ($SOURCE_DATE_EPOCH in tests) */
};

void prep_init(struct prep *p, const struct root *root, bool dry_run);
void prep_release(struct prep *p);
void prep_log(struct prep *p, const char *fmt, ...) _printf_(2, 3);

/*
 * Runs @argv through the one command runner: under print_only it is only
 * logged ("would run: ..."), otherwise run, and a non-zero status is an error.
 */
int prep_run(struct prep *p, char *const *argv, char **reterr);

struct file_change {
        char *path;
        bool existed;
        char *old; /* NULL when !existed */
        size_t old_len;
        char *new;
        size_t new_len;
        mode_t mode; /* of the file (existing: its own) */
        uid_t uid;
        gid_t gid;
};

enum command_kind {
        COMMAND_REGEN, /* after applying and again after undoing (update-grub, initramfs) */
        COMMAND_RUN,   /* after applying only */
        COMMAND_UNDO,  /* after undoing only */
};

struct command {
        enum command_kind kind;
        char **argv;
};

struct change_set {
        char *verb;
        struct file_change *files;
        size_t n_files, cap_files;
        struct command *commands;
        size_t n_commands, cap_commands;
};

void change_set_init(struct change_set *cs, const char *verb);
void change_set_release(struct change_set *cs);

/*
 * The content @path will have once the set is applied: a pending edit of the
 * set, else the file's bytes. *ret_exists is false (and *ret empty) for a
 * missing file. The buffer is owned by the caller.
 */
int change_set_current(const struct change_set *cs, const struct root *r, const char *path,
                       char **ret, size_t *ret_len, bool *ret_exists, char **reterr);
/* Sets the new content of @path (@mode for a file that does not exist yet). */
int change_set_write(struct change_set *cs, const struct root *r, const char *path,
                     const char *data, size_t len, mode_t mode, char **reterr);
void change_set_command(struct change_set *cs, enum command_kind kind, char *const *argv);
/* Whether any file's content differs from what is on disk. */
bool change_set_changes(const struct change_set *cs);

/*
 * Shows and (unless dry run) applies @cs. *ret_id is the journal entry's id,
 * 0 when nothing had to change. On failure before the first target write
 * nothing changed; a failure after it restores what was written.
 */
int journal_apply(struct prep *p, struct change_set *cs, unsigned *ret_id, char **reterr);

enum journal_state {
        JOURNAL_PENDING,
        JOURNAL_COMPLETE,
        JOURNAL_UNDONE,
};

const char *journal_state_to_string(enum journal_state s);

enum file_state {
        FILE_IN_PLACE, /* holds what darwinkvm wrote */
        FILE_ORIGINAL, /* holds the previous bytes (undone, or never applied) */
        FILE_CHANGED,  /* someone changed it since */
        FILE_BACKUP_MISSING,
};

const char *file_state_to_string(enum file_state s);

struct journal_file {
        unsigned index;
        char *path;
        bool existed;
        mode_t mode;
        uid_t uid;
        gid_t gid;
        enum file_state state; /* filled by journal_load() */
};

struct journal_entry {
        unsigned id;
        char *verb;
        long long time;
        enum journal_state state;
        struct journal_file *files;
        size_t n_files;
        struct command *commands;
        size_t n_commands;
        char **dirs; /* directories created for new files, parents first */
};

void journal_entry_release(struct journal_entry *e);
/* Parses the text of an `entry` file (exposed for the unit tests and the fuzzer). */
int journal_entry_parse(const char *text, size_t len, struct journal_entry *ret, char **reterr);
/* Formats an entry the way journal_entry_parse() reads it. Newly allocated. */
char *journal_entry_format(const struct journal_entry *e);

/* Every entry, oldest first, with each file's state. */
int journal_load(const struct root *r, struct journal_entry **ret, size_t *ret_n, char **reterr);
void journal_entries_free(struct journal_entry *e, size_t n);

/*
 * Undoes entry @id (0: every entry not undone yet, newest first). Refuses, with
 * the diff in p->diff and nothing changed, where a file changed since or a
 * backup is missing.
 */
int journal_undo(struct prep *p, unsigned id, char **reterr);
/* Undoes the newest entries of @verb that are not undone ("hooks"), newest first. */
int journal_undo_verb(struct prep *p, const char *verb, unsigned *ret_count, char **reterr);

/*
 * Removes the entries of @verb that are undone, backups and all (`rm NAME`
 * leaves no trace of "new:NAME"). Entries still in place are kept.
 */
int journal_forget_verb(const struct root *r, const char *verb, unsigned *ret_count, char **reterr);

/* Writes counted for the crash test ($DARWINKVM_TEST_CRASH_AFTER_WRITES=N exits after the Nth). */
void journal_count_write(void);
