/* whois_text.c — the synthetic world's WHOIS record as free text, for the `whois` and
 * `historical_free_text` pivots: which domains' record contains a word.
 *
 * A domain's WHOIS text is the values of its four contacts (name, org, street, city, state,
 * postal, country, phone, fax, emails), its additional WHOIS emails and its registrar. A
 * word matches when it occurs in one of them, ignoring ASCII case; a word made of a phone
 * number's characters ("+1.480-624") also matches the digits of a phone or fax.
 *
 * Two ways to the same answer: fi_whois_word_in_profile tests one profile (domain= questions,
 * domains outside the universe); fi_whois_word_domains finds every universe domain by
 * testing each value of the WHOIS value spaces once and taking the union of their index
 * lists. The email space also holds DNS SOA mailboxes, which are not WHOIS text: domains
 * reached only through one of those are confirmed against their profile. Pure apart from
 * the list it returns, which the caller frees.
 */
#include "world_int.h"

#include <stdlib.h>
#include <string.h>

/* The value spaces of the WHOIS text, in the order of a contact's fields. */
static const fi_kind_t contact_kinds[9] = {K_C_NAME,   K_C_ORG,     K_C_STREET, K_C_CITY, K_C_STATE,
                                           K_C_POSTAL, K_C_COUNTRY, K_C_PHONE,  K_C_FAX};

static unsigned char ascii_lower(unsigned char c) {
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static bool ci_contains(const char *h, size_t hn, const char *n, size_t nn) {
    if (nn == 0) return true;
    for (size_t i = 0; i + nn <= hn; i++) {
        size_t j = 0;
        while (j < nn && ascii_lower((unsigned char)h[i + j]) == ascii_lower((unsigned char)n[j]))
            j++;
        if (j == nn) return true;
    }
    return false;
}

/* The word prepared once: as given, and its digits when it reads as a phone number. */
typedef struct {
    const char *s;
    size_t n;
    char digits[64];
    size_t ndigits; /* 0: not a phone number */
} word_t;

static void word_init(word_t *wd, const char *s, size_t n) {
    wd->s = s;
    wd->n = n;
    wd->ndigits = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= '0' && s[i] <= '9') {
            if (wd->ndigits == sizeof(wd->digits)) {
                wd->ndigits = 0;
                return;
            }
            wd->digits[wd->ndigits++] = s[i];
        } else if (!strchr("+.-()", s[i])) {
            wd->ndigits = 0;
            return;
        }
    }
}

static bool value_matches(const fi_world_t *w, fi_kind_t k, uint32_t id, const word_t *wd) {
    char buf[512];
    size_t n = fi_value(w, k, id, buf, sizeof(buf));
    if (ci_contains(buf, n, wd->s, wd->n)) return true;
    if (wd->ndigits && (k == K_C_PHONE || k == K_C_FAX)) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (buf[i] >= '0' && buf[i] <= '9') buf[m++] = buf[i];
        return ci_contains(buf, m, wd->digits, wd->ndigits);
    }
    return false;
}

static bool profile_matches(const fi_world_t *w, const fi_dom_t *d, const word_t *wd) {
    for (int c = 0; c < 4; c++) {
        const fi_contact_t *ct = &d->c[c];
        for (int f = 0; f < 9; f++)
            if (ct->f[f] != FI_NONE && value_matches(w, contact_kinds[f], ct->f[f], wd))
                return true;
        for (uint8_t j = 0; j < ct->nemail; j++)
            if (value_matches(w, K_EMAIL, ct->email[j], wd)) return true;
    }
    for (uint8_t j = 0; j < d->naddl; j++)
        if (value_matches(w, K_EMAIL, d->addl[j], wd)) return true;
    return d->registrar != FI_NONE && value_matches(w, K_REGISTRAR, d->registrar, wd);
}

bool fi_whois_word_in_profile(const fi_world_t *w, const fi_dom_t *d, const char *s, size_t n) {
    word_t wd;
    word_init(&wd, s, n);
    return profile_matches(w, d, &wd);
}

static bool is_soa_mailbox(const fi_world_t *w, uint32_t email) {
    for (uint32_t g = 0; g < w->nnsg; g++)
        if (w->nsg[g].soa == email) return true;
    return false;
}

#define BIT(m, i) ((m)[(i) >> 6] >> ((i)&63) & 1u)
#define SET(m, i) ((m)[(i) >> 6] |= 1ULL << ((i)&63))

int fi_whois_word_domains(const fi_world_t *w, const char *s, size_t n, uint32_t **out,
                          uint32_t *count) {
    *out = NULL;
    *count = 0;
    word_t wd;
    word_init(&wd, s, n);
    size_t words = ((size_t)w->n + 63) / 64;
    uint64_t *hit = calloc(words ? words : 1, sizeof(uint64_t));
    uint64_t *soa_only = calloc(words ? words : 1, sizeof(uint64_t));
    fi_dom_t *d = malloc(sizeof(*d));
    int rc = hit && soa_only && d ? IG_OK : IG_ENOMEM;
    static const fi_kind_t kinds[] = {K_C_NAME,  K_C_ORG,     K_C_STREET,  K_C_CITY,
                                      K_C_STATE, K_C_POSTAL,  K_C_COUNTRY, K_C_PHONE,
                                      K_C_FAX,   K_REGISTRAR, K_EMAIL};
    bool any_soa = false;
    for (size_t k = 0; !rc && k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        for (uint32_t id = 0; id < w->pool[kinds[k]]; id++) {
            uint32_t nd;
            const uint32_t *l = fi_list(w, kinds[k], id, &nd);
            if (!nd || !value_matches(w, kinds[k], id, &wd)) continue;
            bool soa = kinds[k] == K_EMAIL && is_soa_mailbox(w, id);
            for (uint32_t j = 0; j < nd; j++) {
                if (soa)
                    SET(soa_only, l[j]);
                else
                    SET(hit, l[j]);
            }
            any_soa |= soa;
        }
    }
    uint32_t total = 0;
    for (uint32_t i = 0; !rc && i < w->n; i++) {
        if (!BIT(hit, i) && any_soa && BIT(soa_only, i)) {
            fi_profile(w, i, d); /* an SOA mailbox matched: is the word in its WHOIS too? */
            if (profile_matches(w, d, &wd)) SET(hit, i);
        }
        total += (uint32_t)BIT(hit, i);
    }
    if (!rc && total) {
        *out = malloc(total * sizeof(uint32_t));
        if (!*out) rc = IG_ENOMEM;
        for (uint32_t i = 0, at = 0; !rc && i < w->n; i++)
            if (BIT(hit, i)) (*out)[at++] = i;
        if (!rc) *count = total;
    }
    free(hit);
    free(soa_only);
    free(d);
    return rc;
}
