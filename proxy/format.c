/* format.c — renders one JSON answer (built, recorded or an error body) as the vendor's
 * XML or HTML page (conventions in irisgate/format.h): fakeiris answers every format with
 * it, and irisgate its own /v1/account.
 *
 * A recursive-descent reader walks the JSON text once and writes the page as it goes: no
 * tree, and scalars keep their JSON spelling (a number is written as it was written, so an
 * epoch in milliseconds or a rank like 71.5 is not rounded through a double). Strings are
 * decoded (\uXXXX and surrogate pairs to UTF-8) and escaped for markup; characters XML
 * cannot carry become U+FFFD. Nesting is bounded (MAX_DEPTH); text that is not JSON is
 * IG_EINVAL, never a crash. Owns nothing but the caller's output buffer.
 */
#include "irisgate/format.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#define MAX_DEPTH 64
#define MAX_NAME 128

#define CSS                                                                                        \
    "body{font-family:Helvetica,Arial,sans-serif;font-size:13px;color:#222;margin:16px}"           \
    "table{border-collapse:collapse;margin:2px 0}"                                                 \
    "th,td{border:1px solid #ccd;padding:3px 6px;text-align:left;vertical-align:top}"              \
    "th{background:#eef0f6;font-weight:600;white-space:nowrap}"                                    \
    "ol{margin:0;padding-left:22px}"

int ig_format_parse(const char *v, ig_format_t *out) {
    if (!v || strcasecmp(v, "json") == 0)
        *out = IG_FMT_JSON;
    else if (strcasecmp(v, "xml") == 0)
        *out = IG_FMT_XML;
    else if (strcasecmp(v, "html") == 0)
        *out = IG_FMT_HTML;
    else
        return IG_EINVAL;
    return IG_OK;
}

const char *ig_format_ctype(ig_format_t f, const char *json_ctype) {
    return f == IG_FMT_XML ? IG_XML_CTYPE : f == IG_FMT_HTML ? IG_HTML_CTYPE : json_ctype;
}

typedef struct {
    const char *p, *e;
    ig_buf_t *out;
    ig_format_t f;
    int depth;
    int rc;
} cv_t;

static void cv_put(cv_t *c, const char *s, size_t n) {
    if (!c->rc) c->rc = ig_buf_append(c->out, s, n);
}
#define CV_PUT(c, lit) cv_put((c), (lit), sizeof(lit) - 1)

static void cv_fail(cv_t *c) {
    if (!c->rc) c->rc = IG_EINVAL;
}

static void cv_ws(cv_t *c) {
    while (c->p < c->e && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int cv_peek(cv_t *c) {
    cv_ws(c);
    return c->p < c->e ? (unsigned char)*c->p : -1;
}

static bool cv_eat(cv_t *c, char ch) {
    if (cv_peek(c) != (unsigned char)ch) return false;
    c->p++;
    return true;
}

/* ---- strings ---- */

static void cv_put_cp(ig_buf_t *b, uint32_t cp, int *rc) {
    char u[4];
    size_t n;
    if (cp == '&') {
        if (!*rc) *rc = ig_buf_puts(b, "&amp;");
        return;
    }
    if (cp == '<') {
        if (!*rc) *rc = ig_buf_puts(b, "&lt;");
        return;
    }
    if (cp == '>') {
        if (!*rc) *rc = ig_buf_puts(b, "&gt;");
        return;
    }
    /* XML 1.0 has no way to say the other C0 controls, a lone surrogate or U+FFFE/F */
    if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || (cp >= 0xD800 && cp < 0xE000) ||
        cp == 0xFFFE || cp == 0xFFFF || cp > 0x10FFFF)
        cp = 0xFFFD;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12);
        u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | cp >> 18);
        u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        u[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    if (!*rc) *rc = ig_buf_append(b, u, n);
}

static int cv_hex4(const char *p, const char *e, uint32_t *v) {
    if (e - p < 4) return -1;
    uint32_t x = 0;
    for (int i = 0; i < 4; i++) {
        char ch = p[i];
        int d = ch >= '0' && ch <= '9'   ? ch - '0'
                : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                         : -1;
        if (d < 0) return -1;
        x = x << 4 | (uint32_t)d;
    }
    *v = x;
    return 0;
}

/* The string at c->p (its opening quote), decoded and escaped into b. */
static void cv_string_into(cv_t *c, ig_buf_t *b) {
    if (!cv_eat(c, '"')) {
        cv_fail(c);
        return;
    }
    while (!c->rc) {
        if (c->p >= c->e) {
            cv_fail(c);
            return;
        }
        unsigned char ch = (unsigned char)*c->p++;
        if (ch == '"') return;
        if (ch != '\\') {
            if (ch >= 0x80) { /* UTF-8 as it came */
                c->rc = ig_buf_putc(b, (char)ch);
                continue;
            }
            cv_put_cp(b, ch, &c->rc);
            continue;
        }
        if (c->p >= c->e) {
            cv_fail(c);
            return;
        }
        char x = *c->p++;
        uint32_t cp;
        switch (x) {
        case '"':
        case '\\':
        case '/':
            cp = (uint32_t)x;
            break;
        case 'b':
            cp = '\b';
            break;
        case 'f':
            cp = '\f';
            break;
        case 'n':
            cp = '\n';
            break;
        case 'r':
            cp = '\r';
            break;
        case 't':
            cp = '\t';
            break;
        case 'u':
            if (cv_hex4(c->p, c->e, &cp)) {
                cv_fail(c);
                return;
            }
            c->p += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && c->e - c->p >= 6 && c->p[0] == '\\' &&
                c->p[1] == 'u') {
                uint32_t lo;
                if (!cv_hex4(c->p + 2, c->e, &lo) && lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    c->p += 6;
                }
            }
            break;
        default:
            cv_fail(c);
            return;
        }
        cv_put_cp(b, cp, &c->rc);
    }
}

/* An element name from a member name: XML name characters kept, others '_'; a name that
 * cannot start an element gets a leading '_'. */
static void cv_element_name(cv_t *c, char *name) {
    ig_buf_t raw = {0};
    cv_string_into(c, &raw);
    size_t n = 0;
    for (size_t i = 0; i < raw.len && n < MAX_NAME - 2; i++) {
        char ch = raw.data[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
                  (n > 0 && ((ch >= '0' && ch <= '9') || ch == '-' || ch == '.'));
        if (n == 0 && !ok && ((ch >= '0' && ch <= '9') || ch == '-' || ch == '.')) {
            name[n++] = '_';
            ok = true;
        }
        name[n++] = ok ? ch : '_';
    }
    if (n == 0) name[n++] = '_';
    name[n] = '\0';
    ig_buf_free(&raw);
}

/* ---- scalars ---- */

/* The JSON text of a number or literal at c->p; false (nothing consumed) for anything else. */
static bool cv_scalar(cv_t *c, const char **s, size_t *n) {
    cv_ws(c);
    const char *b = c->p;
    static const char *const lits[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t l = strlen(lits[i]);
        if ((size_t)(c->e - b) >= l && memcmp(b, lits[i], l) == 0) {
            c->p += l;
            *s = b;
            *n = l;
            return true;
        }
    }
    const char *q = b;
    bool digit = false;
    while (q < c->e && *q && strchr("+-.eE0123456789", *q)) {
        digit |= *q >= '0' && *q <= '9';
        q++;
    }
    if (!digit) return false;
    c->p = q;
    *s = b;
    *n = (size_t)(q - b);
    return true;
}

/* ---- XML ---- */

static void xml_value(cv_t *c, const char *name);

static void cv_open_tag(cv_t *c, const char *name) {
    CV_PUT(c, "<");
    cv_put(c, name, strlen(name));
    CV_PUT(c, ">");
}

static void cv_close_tag(cv_t *c, const char *name) {
    CV_PUT(c, "</");
    cv_put(c, name, strlen(name));
    CV_PUT(c, ">");
}

/* The items of the array at c->p, each an element called name. */
static void xml_items(cv_t *c, const char *name) {
    c->p++; /* '[' */
    if (cv_eat(c, ']')) return;
    do {
        xml_value(c, name); /* an array inside is one element of name holding <item>s */
    } while (!c->rc && cv_eat(c, ','));
    if (!cv_eat(c, ']')) cv_fail(c);
}

static void xml_value(cv_t *c, const char *name) {
    int ch = cv_peek(c);
    if (c->rc) return;
    if (ch == '{') {
        if (++c->depth > MAX_DEPTH) {
            cv_fail(c);
            return;
        }
        c->p++;
        cv_open_tag(c, name);
        if (!cv_eat(c, '}')) {
            do {
                char key[MAX_NAME];
                cv_element_name(c, key);
                if (!cv_eat(c, ':')) {
                    cv_fail(c);
                    return;
                }
                if (cv_peek(c) == '[') {
                    if (++c->depth > MAX_DEPTH) {
                        cv_fail(c);
                        return;
                    }
                    xml_items(c, key);
                    c->depth--;
                } else {
                    xml_value(c, key);
                }
            } while (!c->rc && cv_eat(c, ','));
            if (!cv_eat(c, '}')) {
                cv_fail(c);
                return;
            }
        }
        cv_close_tag(c, name);
        c->depth--;
    } else if (ch == '[') { /* at the top or inside an array: the items inside the element */
        if (++c->depth > MAX_DEPTH) {
            cv_fail(c);
            return;
        }
        cv_open_tag(c, name);
        xml_items(c, "item");
        cv_close_tag(c, name);
        c->depth--;
    } else if (ch == '"') {
        cv_open_tag(c, name);
        cv_string_into(c, c->out);
        cv_close_tag(c, name);
    } else {
        const char *s;
        size_t n;
        if (!cv_scalar(c, &s, &n)) {
            cv_fail(c);
            return;
        }
        if (n == 4 && memcmp(s, "null", 4) == 0) {
            CV_PUT(c, "<");
            cv_put(c, name, strlen(name));
            CV_PUT(c, "/>");
            return;
        }
        cv_open_tag(c, name);
        cv_put(c, s, n);
        cv_close_tag(c, name);
    }
}

/* ---- HTML ---- */

static void html_value(cv_t *c) {
    int ch = cv_peek(c);
    if (c->rc) return;
    if (ch == '{' || ch == '[') {
        if (++c->depth > MAX_DEPTH) {
            cv_fail(c);
            return;
        }
        c->p++;
        bool obj = ch == '{';
        if (obj)
            CV_PUT(c, "<table>");
        else
            CV_PUT(c, "<ol>");
        if (!cv_eat(c, obj ? '}' : ']')) {
            do {
                if (obj) {
                    CV_PUT(c, "<tr><th>");
                    cv_string_into(c, c->out);
                    if (!cv_eat(c, ':')) {
                        cv_fail(c);
                        return;
                    }
                    CV_PUT(c, "</th><td>");
                    html_value(c);
                    CV_PUT(c, "</td></tr>");
                } else {
                    CV_PUT(c, "<li>");
                    html_value(c);
                    CV_PUT(c, "</li>");
                }
            } while (!c->rc && cv_eat(c, ','));
            if (!cv_eat(c, obj ? '}' : ']')) {
                cv_fail(c);
                return;
            }
        }
        if (obj)
            CV_PUT(c, "</table>");
        else
            CV_PUT(c, "</ol>");
        c->depth--;
    } else if (ch == '"') {
        cv_string_into(c, c->out);
    } else {
        const char *s;
        size_t n;
        if (!cv_scalar(c, &s, &n)) {
            cv_fail(c);
            return;
        }
        if (!(n == 4 && memcmp(s, "null", 4) == 0)) cv_put(c, s, n);
    }
}

int ig_format_render(ig_format_t f, const char *json, size_t len, ig_buf_t *out) {
    cv_t c = {json, json + len, out, f, 0, IG_OK};
    if (f == IG_FMT_XML) {
        CV_PUT(&c, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        xml_value(&c, "whoisapi");
    } else if (f == IG_FMT_HTML) {
        CV_PUT(&c, "<html><head><title>DomainTools API</title><meta charset=\"utf-8\"><style>" CSS
                   "</style></head><body>");
        html_value(&c);
        CV_PUT(&c, "</body></html>\n");
    } else {
        cv_put(&c, json, len);
        return c.rc;
    }
    if (!c.rc && cv_peek(&c) != -1) cv_fail(&c); /* something after the answer */
    return c.rc;
}
