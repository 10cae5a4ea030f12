/* common/text/text_out.h — text from untrusted files made safe to print, and number formats, for what vkmm writes
 * about its inputs. */
#ifndef VKMM_COMMON_TEXT_OUT_H
#define VKMM_COMMON_TEXT_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A malloc'ed copy of at most max bytes of s as valid UTF-8 with no NUL (bad bytes become U+FFFD), "..." when
 * cut; with escape, control characters become \n, \t, \r or \xNN so the text stays on one line. */
char *vkmm_clean_text(const char *s, uint64_t len, size_t max, bool escape);
/* s as a JSON string, with the escapes the format requires. */
void vkmm_json_write_string(FILE *f, const char *s);
/* The shortest decimal that reads back as v (as a float when f32); "nan", "inf", "-inf" otherwise. */
void vkmm_format_float(char *buf, size_t size, double v, bool f32);
/* "123 bytes", "1.50 MiB", ... */
void vkmm_format_bytes(char *buf, size_t size, uint64_t bytes);

#endif
