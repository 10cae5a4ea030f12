/* tools/serve/page.h — the chat page, embedded at build time from tools/serve/chat.html (embed.py). */
#ifndef VKMM_TOOLS_SERVE_PAGE_H
#define VKMM_TOOLS_SERVE_PAGE_H

#include <stddef.h>

extern const unsigned char serve_page_html[];
extern const size_t serve_page_html_len;

#endif
