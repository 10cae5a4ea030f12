/* vkmm_status.h — part of vkmm's public API, installed beside vkmm.h (which includes it): the status every call
 * returns, the error value it fills, and the export macro. Every layer shares these, the loader included, so they
 * live in common/ rather than with the engine. */
#ifndef VKMM_STATUS_H
#define VKMM_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(VKMM_BUILDING_LIBRARY)
#define VKMM_API __attribute__((visibility("default")))
#else
#define VKMM_API
#endif

typedef enum vkmm_status {
    VKMM_OK = 0,
    VKMM_ERR_INVALID_ARG,   /* the caller passed something unusable */
    VKMM_ERR_IO,            /* a file could not be opened, read or written */
    VKMM_ERR_FORMAT,        /* a file is corrupt or not what it claims to be */
    VKMM_ERR_UNSUPPORTED,   /* valid input that vkmm does not handle */
    VKMM_ERR_NO_DEVICE,     /* no usable Vulkan device */
    VKMM_ERR_OUT_OF_MEMORY, /* device memory (or the configured budget) exhausted */
    VKMM_ERR_HOST_MEMORY,   /* host allocation failed */
    VKMM_ERR_DEVICE_LOST,   /* the GPU was lost; the context is unusable, the process is not */
    VKMM_ERR_VULKAN,        /* any other Vulkan failure */
    VKMM_ERR_INTERNAL,      /* a bug in vkmm */
    VKMM_ERR_NOT_FOUND,     /* a model name is unknown, or the files its manifest names are not on this machine */
} vkmm_status;

typedef struct vkmm_error {
    vkmm_status code;
    char msg[1024]; /* names the file, the offset or the limit, and what is wrong */
} vkmm_error;

VKMM_API const char *vkmm_status_name(vkmm_status code);

#ifdef __cplusplus
}
#endif
#endif
