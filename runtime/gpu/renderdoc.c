/* runtime/gpu/renderdoc.c — RenderDoc's in-app API, used only when librenderdoc.so is already loaded (as under
 * `renderdoccmd capture`): VKMM_CAPTURE=1 turns the first begin/end pair into a frame capture. */
#include <stdlib.h>
#include <string.h>

#include "gpu_internal.h"
#include "log.h"
#include "vkmm_config.h"

#if VKMM_HAVE_RENDERDOC
#include <dlfcn.h>
#include <renderdoc_app.h>
#endif

void vkmm_renderdoc_init(vkmm_gpu *gpu)
{
    const char *want = getenv("VKMM_CAPTURE");
    gpu->capture_wanted = want && *want && strcmp(want, "0") != 0;
#if VKMM_HAVE_RENDERDOC
    /* RTLD_NOLOAD: never pull RenderDoc into a process that was not started under it. */
    void *lib = dlopen("librenderdoc.so", RTLD_NOW | RTLD_NOLOAD);
    if (!lib)
        return;
    pRENDERDOC_GetAPI get = (pRENDERDOC_GetAPI)dlsym(lib, "RENDERDOC_GetAPI");
    RENDERDOC_API_1_1_2 *api = NULL;
    if (get && get(eRENDERDOC_API_Version_1_1_2, (void **)&api) == 1 && api)
        gpu->renderdoc = api;
    /* the process keeps the library either way; dropping our reference is harmless */
    dlclose(lib);
    if (gpu->renderdoc)
        vkmm_info("running under RenderDoc%s", gpu->capture_wanted ? "; VKMM_CAPTURE=1 will capture" : "");
#endif
}

bool vkmm_gpu_capture_available(const vkmm_gpu *gpu)
{
    return gpu->renderdoc != NULL;
}

void vkmm_gpu_capture_begin(vkmm_gpu *gpu)
{
#if VKMM_HAVE_RENDERDOC
    RENDERDOC_API_1_1_2 *api = gpu->renderdoc;
    if (!api || !gpu->capture_wanted || gpu->capturing || gpu->captures_done)
        return;
    api->StartFrameCapture(RENDERDOC_DEVICEPOINTER_FROM_VKINSTANCE(gpu->inst.instance), NULL);
    gpu->capturing = true;
#else
    (void)gpu;
#endif
}

void vkmm_gpu_capture_end(vkmm_gpu *gpu)
{
#if VKMM_HAVE_RENDERDOC
    RENDERDOC_API_1_1_2 *api = gpu->renderdoc;
    if (!api || !gpu->capturing)
        return;
    if (api->EndFrameCapture(RENDERDOC_DEVICEPOINTER_FROM_VKINSTANCE(gpu->inst.instance), NULL))
        vkmm_info("RenderDoc capture written");
    else
        vkmm_warn("RenderDoc capture failed");
    gpu->capturing = false;
    gpu->captures_done++;
#else
    (void)gpu;
#endif
}
