/* tools/serve/base64.h — base64 decoding of inline images. */
#ifndef VKMM_TOOLS_SERVE_BASE64_H
#define VKMM_TOOLS_SERVE_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Decodes s[0..n) into a malloc'ed *out. 0, or -1 with a message in why. */
int serve_base64_decode(const char *s, size_t n, uint8_t **out, size_t *out_len, char *why, size_t why_size);

#endif
