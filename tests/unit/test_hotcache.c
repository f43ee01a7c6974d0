/* test_hotcache.c — the in-memory LRU: hits, replacement, eviction of the least recently
 * used entry when over budget, and bodies that outlive eviction while still referenced. */
#include "check.h"
#include "irisgate/hotcache.h"

#include <stdio.h>
#include <string.h>

static void put(ig_hotcache_t *c, const char *k, const char *body) {
    ig_blob_t *b = ig_blob_new(body, strlen(body));
    ig_hotcache_put(c, k, strlen(k), "application/json", 100, b);
    ig_blob_unref(b);
}

static void test_hotcache_get_put_replace(void) {
    ig_hotcache_t *c = ig_hotcache_new(1 << 20);
    CHECK(ig_hotcache_get(c, "a", 1) == NULL);
    put(c, "a", "one");
    const ig_hot_entry_t *e = ig_hotcache_get(c, "a", 1);
    CHECK(e != NULL);
    if (e) {
        CHECK_EQ_STR(e->body->data, "one");
        CHECK_EQ_STR(e->content_type, "application/json");
        CHECK_EQ_INT(e->fetched_at, 100);
    }
    put(c, "a", "two");
    e = ig_hotcache_get(c, "a", 1);
    CHECK(e && strcmp(e->body->data, "two") == 0);
    ig_hotcache_stats_t st;
    ig_hotcache_stats(c, &st);
    CHECK_EQ_INT(st.entries, 1);
    ig_hotcache_remove(c, "a", 1);
    CHECK(ig_hotcache_get(c, "a", 1) == NULL);
    ig_hotcache_free(c);
}

static void test_hotcache_evicts_least_recently_used(void) {
    char body[1000];
    memset(body, 'x', sizeof(body) - 1);
    body[sizeof(body) - 1] = '\0';
    ig_hotcache_t *c = ig_hotcache_new(5000); /* room for about four bodies */
    put(c, "k1", body);
    put(c, "k2", body);
    put(c, "k3", body);
    put(c, "k4", body);
    CHECK(ig_hotcache_get(c, "k1", 2) != NULL); /* k1 is now the most recent */
    put(c, "k5", body);                          /* evicts k2, the least recent */
    CHECK(ig_hotcache_get(c, "k2", 2) == NULL);
    CHECK(ig_hotcache_get(c, "k1", 2) != NULL);
    CHECK(ig_hotcache_get(c, "k5", 2) != NULL);
    ig_hotcache_stats_t st;
    ig_hotcache_stats(c, &st);
    CHECK(st.bytes <= 5000);
    CHECK(st.evictions >= 1);
    ig_hotcache_free(c);
}

static void test_hotcache_refuses_answers_larger_than_the_budget(void) {
    ig_hotcache_t *c = ig_hotcache_new(100);
    char big[500];
    memset(big, 'y', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ig_blob_t *b = ig_blob_new(big, strlen(big));
    CHECK_EQ_INT(ig_hotcache_put(c, "big", 3, "text/plain", 1, b), IG_ETOOBIG);
    ig_blob_unref(b);
    CHECK(ig_hotcache_get(c, "big", 3) == NULL);
    ig_hotcache_free(c);
}

static void test_hotcache_body_outlives_eviction_while_referenced(void) {
    ig_hotcache_t *c = ig_hotcache_new(1 << 20);
    put(c, "a", "payload");
    ig_blob_t *held = ig_blob_ref(ig_hotcache_get(c, "a", 1)->body); /* a write in progress */
    ig_hotcache_remove(c, "a", 1);
    CHECK_EQ_STR(held->data, "payload"); /* ASan would catch a use after free */
    ig_blob_unref(held);
    ig_hotcache_free(c);
}

static void test_hotcache_many_keys_grow_the_table(void) {
    ig_hotcache_t *c = ig_hotcache_new(64 << 20);
    char k[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(k, sizeof k, "key-%d", i);
        put(c, k, "v");
    }
    int found = 0;
    for (int i = 0; i < 5000; i++) {
        snprintf(k, sizeof k, "key-%d", i);
        found += ig_hotcache_get(c, k, strlen(k)) != NULL;
    }
    CHECK_EQ_INT(found, 5000);
    ig_hotcache_free(c);
}

int main(void) {
    RUN(test_hotcache_get_put_replace);
    RUN(test_hotcache_evicts_least_recently_used);
    RUN(test_hotcache_refuses_answers_larger_than_the_budget);
    RUN(test_hotcache_body_outlives_eviction_while_referenced);
    RUN(test_hotcache_many_keys_grow_the_table);
    return check_summary();
}
