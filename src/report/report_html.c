/*
 * report_html.c: the report as one self-contained HTML page, and writing
 * a report to its file. The page is report_page.html, compiled in as a C
 * string (the Makefile generates report_page.h from it); the report's JSON
 * goes where the page says @KILN_DATA@.
 */
#include "report.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

static const char report_page[] =
#include "report_page.h"
    ;

/* Where the data goes in the page. */
#define REPORT_DATA_MARK "@KILN_DATA@"

/* How a report file starts: its JSON, and the page's second line. */
#define REPORT_JSON_HEAD "{\"kiln_report\":"
#define REPORT_HTML_HEAD "<!-- kiln report:"

int report_html(const report_input *in, kl_buf *out, kl_err *err)
{
    const char *mark = strstr(report_page, REPORT_DATA_MARK);

    if (mark == NULL)
        return kl_err_set(err, "the report page has no place for its data "
                               "(internal error)");
    if (kl_buf_add(out, report_page, (size_t)(mark - report_page)) < 0)
        return kl_err_oom(err);
    if (report_json(in, KL_JSON_HTML, out, err) < 0)
        return -1;
    if (kl_buf_adds(out, mark + strlen(REPORT_DATA_MARK)) < 0)
        return kl_err_oom(err);
    return 0;
}

/* True when path names an HTML file by its suffix. */
static int report_wants_html(const char *path)
{
    size_t n = strlen(path);

    return (n >= 5 && strcmp(path + n - 5, ".html") == 0) ||
           (n >= 4 && strcmp(path + n - 4, ".htm") == 0);
}

int report_write(const report_input *in, const char *path, kl_err *err)
{
    kl_buf text = KL_BUF_INIT;
    int r = report_wants_html(path) ? report_html(in, &text, err)
                                    : report_json(in, 0, &text, err);

    if (r == 0 && (r = kl_make_parents(path, err)) == 0)
        r = kl_file_replace(path, text.s, text.len, 0644, err);
    kl_buf_free(&text);
    return r;
}

int report_is_report(const char *path)
{
    char head[256];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

    if (fd < 0)
        return 0;
    n = read(fd, head, sizeof head - 1);
    close(fd);
    if (n <= 0)
        return 0;
    head[n] = '\0';
    return strncmp(head, REPORT_JSON_HEAD, strlen(REPORT_JSON_HEAD)) == 0 ||
           strstr(head, "\n" REPORT_HTML_HEAD) != NULL;
}
