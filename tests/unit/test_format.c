/* test_format.c — the xml and html renderings of a JSON answer (proxy/format.c), on texts
 * no recorded or synthetic answer holds: members as elements, arrays repeated, empty arrays
 * gone, null empty, escapes decoded and markup escaped, keys that are no XML names, and text
 * that is not JSON or nests too deep refused rather than crashing. Expected pages are
 * written out by hand from the conventions in irisgate/format.h. */
#include "check.h"
#include "irisgate/format.h"

#include <stdio.h>
#include <string.h>

static void check_render(ig_format_t f, const char *json, const char *want) {
    ig_buf_t b = {0};
    CHECK_EQ_INT(ig_format_render(f, json, strlen(json), &b), IG_OK);
    CHECK(b.data != NULL);
    if (!b.data) return;
    const char *body = b.data;
    static const char head[] = "<html><head><title>DomainTools API</title>";
    if (f == IG_FMT_XML) {
        static const char prolog[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
        CHECK(strncmp(body, prolog, sizeof(prolog) - 1) == 0);
        body += strncmp(body, prolog, sizeof(prolog) - 1) == 0 ? sizeof(prolog) - 1 : 0;
    } else {
        const char *start = strstr(body, "<body>");
        CHECK(strncmp(body, head, sizeof(head) - 1) == 0 && start);
        body = start ? start + 6 : body;
        const char *end = strstr(body, "</body>");
        if (end) b.len = (size_t)(end - b.data), b.data[b.len] = '\0';
    }
    CHECK_EQ_STR(body, want);
    ig_buf_free(&b);
}

static void test_format_xml_and_html_conventions(void) {
    /* members are elements, arrays repeat their key, empty arrays vanish, null is empty */
    check_render(IG_FMT_XML,
                 "{\"response\":{\"n\":[1,2],\"e\":[],\"o\":{},\"z\":null,\"b\":true,"
                 "\"f\":71.50,\"big\":1727740800123,\"m\":[[1],[]],\"s\":\"\"}}",
                 "<whoisapi><response><n>1</n><n>2</n><o></o><z/><b>true</b><f>71.50</f>"
                 "<big>1727740800123</big><m><item>1</item></m><m></m><s></s></response>"
                 "</whoisapi>");
    /* escapes decoded, markup escaped, what XML cannot carry replaced */
    check_render(IG_FMT_XML,
                 "{\"t\":\"a & b <c> \\\"d\\\" \\/ \\u00e9 \\ud83d\\ude00 \\u0001 \\ud800x\"}",
                 "<whoisapi><t>a &amp; b &lt;c&gt; \"d\" / \xc3\xa9 \xf0\x9f\x98\x80 \xef\xbf\xbd "
                 "\xef\xbf\xbdx</t></whoisapi>");
    /* keys that are no XML names */
    check_render(IG_FMT_XML, "{\"1st\":1,\"a b\":2,\"\":3,\"x-y.z\":4}",
                 "<whoisapi><_1st>1</_1st><a_b>2</a_b><_>3</_><x-y.z>4</x-y.z></whoisapi>");
    check_render(IG_FMT_HTML, "{\"a\":[1,{\"k\":\"<v>\"}],\"e\":[],\"n\":null}",
                 "<table><tr><th>a</th><td><ol><li>1</li><li><table><tr><th>k</th><td>&lt;v&gt;"
                 "</td></tr></table></li></ol></td></tr><tr><th>e</th><td><ol></ol></td></tr>"
                 "<tr><th>n</th><td></td></tr></table>");
    /* not JSON, or nested past the bound: an error, not a crash */
    static const char *const bad[] = {"{\"a\":", "{\"a\" 1}",       "[1,2", "{\"a\":tru}",
                                      "\"x",     "{\"a\":\"\\q\"}", "{} x", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ig_buf_t b = {0};
        CHECK_EQ_INT(ig_format_render(IG_FMT_XML, bad[i], strlen(bad[i]), &b), IG_EINVAL);
        CHECK_EQ_INT(ig_format_render(IG_FMT_HTML, bad[i], strlen(bad[i]), &b), IG_EINVAL);
        ig_buf_free(&b);
    }
    char deep[600];
    size_t at = 0;
    for (int i = 0; i < 100; i++)
        at += (size_t)snprintf(deep + at, sizeof(deep) - at, "{\"a\":");
    ig_buf_t b = {0};
    CHECK_EQ_INT(ig_format_render(IG_FMT_XML, deep, at, &b), IG_EINVAL);
    ig_buf_free(&b);
    ig_format_t f;
    CHECK(ig_format_parse(NULL, &f) == IG_OK && f == IG_FMT_JSON);
    CHECK(ig_format_parse("XML", &f) == IG_OK && f == IG_FMT_XML);
    CHECK(ig_format_parse("Html", &f) == IG_OK && f == IG_FMT_HTML);
    CHECK_EQ_INT(ig_format_parse("jsonl", &f), IG_EINVAL);
}

int main(void) {
    RUN(test_format_xml_and_html_conventions);
    return check_summary();
}
