/* SPDX-License-Identifier: MIT */
#pragma once

/* Shared pieces of the verbs' text and JSON output. */

#include "cli.h"
#include "doctor.h"
#include "json.h"

/* "[ ok ]", "[warn]", "[FAIL]", "[ ?? ]" in the status colour. */
void out_status(struct buf *b, const struct cli_context *ctx, enum check_status s);
/* Starts a JSON document in the style --json asked for. */
void out_json_begin(const struct cli_context *ctx, struct json_writer *w);
/* Writes the document to stdout. Returns 0 or EXIT_ENV. */
int out_json_end(struct json_writer *w);
/* The host's one-line description: OS, CPU, root. */
void out_host_line(struct buf *b, const struct cli_context *ctx, const struct host *h);
/* The facts of a PCI device as members of the JSON object being written. */
void out_json_pci_fields(struct json_writer *w, const struct host_pci_device *d,
                         struct pci_names *names);
/* A GPU verdict as a JSON object. */
void out_json_gpu_verdict(struct json_writer *w, const struct gpu_verdict *v);
/* "key": ["a", "b"] */
void out_json_strv(struct json_writer *w, const char *key, char *const *l);
/* "10de:1b81" */
char *out_pci_id(const struct host_pci_device *d);
/* The user the VMs run as: --user, $SUDO_USER, else the current user. Newly allocated. */
char *out_default_user(const char *given);
