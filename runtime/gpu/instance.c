/* runtime/gpu/instance.c — the Vulkan instance, the Khronos validation layer and the one callback that counts
 * what it reports (tests fail on any error or warning). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_internal.h"
#include "log.h"

#define VALIDATION_LAYER "VK_LAYER_KHRONOS_validation"

bool vkmm_validation_wanted(int opt)
{
    if (opt >= 0)
        return opt != 0;
    const char *s = getenv("VKMM_VALIDATE");
    return s && *s && strcmp(s, "0") != 0;
}

static VKAPI_ATTR VkBool32 VKAPI_CALL on_debug_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                       VkDebugUtilsMessageTypeFlagsEXT types,
                                                       const VkDebugUtilsMessengerCallbackDataEXT *data,
                                                       void *user)
{
    vkmm_validation_counts *c = user;
    const char *msg = data && data->pMessage ? data->pMessage : "(no message)";
    bool is_error = severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
    if (is_error)
        c->errors++;
    else
        c->warnings++;
    if (!c->first[0])
        snprintf(c->first, sizeof c->first, "%s", msg);
    fprintf(stderr, "vkmm: validation %s: %s\n", is_error ? "error" : "warning", msg);
    (void)types;
    return VK_FALSE; /* never abort the call: report and carry on */
}

static bool has_layer(const char *name)
{
    uint32_t n = 0;
    if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0)
        return false;
    VkLayerProperties *props = calloc(n, sizeof *props);
    if (!props)
        return false;
    bool found = false;
    if (vkEnumerateInstanceLayerProperties(&n, props) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++)
            found = !strcmp(props[i].layerName, name);
    free(props);
    return found;
}

static bool has_instance_extension(const char *layer, const char *name)
{
    uint32_t n = 0;
    if (vkEnumerateInstanceExtensionProperties(layer, &n, NULL) != VK_SUCCESS || n == 0)
        return false;
    VkExtensionProperties *props = calloc(n, sizeof *props);
    if (!props)
        return false;
    bool found = false;
    if (vkEnumerateInstanceExtensionProperties(layer, &n, props) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++)
            found = !strcmp(props[i].extensionName, name);
    free(props);
    return found;
}

vkmm_status vkmm_instance_create(bool validation, vkmm_instance *out, vkmm_error *err)
{
    memset(out, 0, sizeof *out);
    out->counts = calloc(1, sizeof *out->counts);
    if (!out->counts)
        return vkmm_fail(err, VKMM_ERR_HOST_MEMORY, "out of host memory");

    if (validation && !has_layer(VALIDATION_LAYER)) {
        free(out->counts);
        out->counts = NULL;
        return vkmm_fail(err, VKMM_ERR_UNSUPPORTED,
                         "validation was requested (VKMM_VALIDATE) but the layer %s is not installed "
                         "(Debian: apt-get install vulkan-validationlayers)", VALIDATION_LAYER);
    }
    out->debug_utils = has_instance_extension(NULL, VK_EXT_DEBUG_UTILS_EXTENSION_NAME) ||
                       (validation && has_instance_extension(VALIDATION_LAYER, VK_EXT_DEBUG_UTILS_EXTENSION_NAME));

    const char *exts[4];
    uint32_t n_ext = 0;
    if (out->debug_utils)
        exts[n_ext++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    const char *layers[1] = {VALIDATION_LAYER};

    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "vkmm",
        .pEngineName = "vkmm",
        .apiVersion = VK_API_VERSION_1_2,
    };
    VkDebugUtilsMessengerCreateInfoEXT dbg = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT,
        .pfnUserCallback = on_debug_message,
        .pUserData = out->counts,
    };
    VkInstanceCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        /* chaining the messenger info also reports problems inside vkCreateInstance itself */
        .pNext = (validation && out->debug_utils) ? &dbg : NULL,
        .pApplicationInfo = &app,
        .enabledLayerCount = validation ? 1 : 0,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = n_ext,
        .ppEnabledExtensionNames = exts,
    };
    VkResult r = vkCreateInstance(&ci, NULL, &out->instance);
    if (r != VK_SUCCESS) {
        free(out->counts);
        out->counts = NULL;
        if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
            return vkmm_fail(err, VKMM_ERR_NO_DEVICE,
                             "no Vulkan driver found (vkCreateInstance: %s); install your GPU's Vulkan "
                             "driver, or mesa-vulkan-drivers for the CPU (lavapipe)", vkmm_vk_result_name(r));
        return vkmm_fail(err, VKMM_ERR_VULKAN, "vkCreateInstance failed: %s", vkmm_vk_result_name(r));
    }
    out->validation = validation;
    out->counts->active = validation && out->debug_utils;

    if (validation && out->debug_utils) {
        PFN_vkCreateDebugUtilsMessengerEXT create = (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
            out->instance, "vkCreateDebugUtilsMessengerEXT");
        if (!create || create(out->instance, &dbg, NULL, &out->messenger) != VK_SUCCESS)
            out->counts->active = false;
    }
    if (validation && !out->counts->active)
        vkmm_warn("validation layer loaded but its messages cannot be received (no VK_EXT_debug_utils)");
    return VKMM_OK;
}

void vkmm_instance_destroy(vkmm_instance *inst, vkmm_validation_counts *final)
{
    if (inst->messenger) {
        PFN_vkDestroyDebugUtilsMessengerEXT destroy = (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
            inst->instance, "vkDestroyDebugUtilsMessengerEXT");
        if (destroy)
            destroy(inst->instance, inst->messenger, NULL);
    }
    if (inst->instance)
        vkDestroyInstance(inst->instance, NULL);
    if (final && inst->counts)
        *final = *inst->counts;
    free(inst->counts);
    memset(inst, 0, sizeof *inst);
}
