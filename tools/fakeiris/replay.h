/* replay.h — the recorded Iris answers fakeiris replays byte for byte, keyed by the
 * canonical question (canon.h) they answer.
 *
 * Loaded once at start from a fixtures directory (INDEX_python_api.json and the files it
 * names); read-only afterwards, so bodies can be handed to the HTTP server without copies.
 */
#ifndef FAKEIRIS_REPLAY_H
#define FAKEIRIS_REPLAY_H

#include "irisgate/common.h"

typedef struct fi_replay fi_replay_t;

typedef struct {
    const char *key; /* canonical key, "iris-investigate?domain=..." */
    size_t key_len;
    const char *body; /* the recorded bytes */
    size_t body_len;
    const char *gz; /* the same, gzip-compressed once at load (NULL: not smaller) */
    size_t gz_len;
    const char *source; /* fixture file name, for logs */
} fi_replay_entry_t;

/* Loads dir. IG_ENOENT when dir or its index does not exist (*out is then NULL); IG_EINVAL
 * or IG_EIO with a message in err when the index or a file it names is unusable. */
int fi_replay_load(const char *dir, fi_replay_t **out, char *err, size_t errlen);

/* The recording answering this canonical key, or NULL. r may be NULL. */
const fi_replay_entry_t *fi_replay_find(const fi_replay_t *r, const char *key, size_t key_len);

size_t fi_replay_count(const fi_replay_t *r);
const fi_replay_entry_t *fi_replay_entry(const fi_replay_t *r, size_t i);

void fi_replay_free(fi_replay_t *r);

#endif
