/* loader/image_stb.h — the few entry points of our private stb_image build (loader/stb_image_impl.c), which
 * decodes PNG, JPEG and BMP only; its own symbols stay static so no other stb copy can collide with them. */
#ifndef VKMM_LOADER_IMAGE_STB_H
#define VKMM_LOADER_IMAGE_STB_H

#include <stddef.h>
#include <stdint.h>

/* Header only, by the decoder of format 'p' (PNG), 'j' (JPEG) or 'b' (BMP): dimensions and channels in the
 * file. Returns 0 on failure (vkmm_stb_failure says why). len must fit in an int. */
int vkmm_stb_info(const uint8_t *data, size_t len, char format, int *w, int *h, int *channels);
/* Full decode to 8 bits per channel in the file's own channel count; free with vkmm_stb_free. */
uint8_t *vkmm_stb_decode(const uint8_t *data, size_t len, int *w, int *h, int *channels);
void vkmm_stb_free(void *p);
/* stb's short reason for the last failure on this thread. */
const char *vkmm_stb_failure(void);

/* Largest single allocation stb may make; bigger requests (a zlib bomb growing its buffer) fail instead. */
#define VKMM_STB_MAX_ALLOC ((size_t)1 << 30)

#endif
