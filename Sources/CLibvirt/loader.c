#include "CLibvirt.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static intermodal_libvirt_api api;
static const intermodal_libvirt_api *loaded;
static char failure[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void) {
    // $INTERMODAL_LIBVIRT_LIBRARY names another build of libvirt (or a missing one, which is how
    // the tests see the error a host without libvirt gives).
    const char *file = getenv("INTERMODAL_LIBVIRT_LIBRARY");
    if (!file || !*file) file = "libvirt.so.0";
    // RTLD_LOCAL: libvirt's symbols serve only this table. Never dlclosed: libvirt starts its own
    // threads (event loop, keepalive) that outlive any one connection.
    void *handle = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *why = dlerror();
        snprintf(failure, sizeof failure, "%s", why ? why : file);
        return;
    }
#define RESOLVE(name)                                                                    \
    do {                                                                                 \
        void *p = dlsym(handle, #name);                                                  \
        if (!p) {                                                                        \
            const char *why = dlerror();                                                 \
            snprintf(failure, sizeof failure, "%s", why ? why : "libvirt.so.0 lacks " #name); \
            return;                                                                      \
        }                                                                                \
        memcpy(&api.name, &p, sizeof p);                                                 \
    } while (0)
    RESOLVE(virConnectOpen);
    RESOLVE(virConnectClose);
    RESOLVE(virConnectGetLibVersion);
    RESOLVE(virConnectGetVersion);
    RESOLVE(virConnectGetHostname);
    RESOLVE(virConnectListAllDomains);
    RESOLVE(virDomainCreateXML);
    RESOLVE(virDomainLookupByName);
    RESOLVE(virDomainDestroy);
    RESOLVE(virDomainFree);
    RESOLVE(virDomainGetID);
    RESOLVE(virDomainGetName);
    RESOLVE(virDomainIsActive);
    RESOLVE(virGetLastError);
    RESOLVE(virGetLastErrorMessage);
    RESOLVE(virSetErrorFunc);
#undef RESOLVE
    loaded = &api;
}

const intermodal_libvirt_api *intermodal_libvirt_load(const char **error) {
    pthread_once(&once, load);
    *error = loaded ? NULL : failure;
    return loaded;
}

static intermodal_libvirt_qemu_api qemu_api;
static const intermodal_libvirt_qemu_api *qemu_loaded;
static char qemu_failure[512];
static pthread_once_t qemu_once = PTHREAD_ONCE_INIT;

static void load_qemu(void) {
    const char *file = getenv("INTERMODAL_LIBVIRT_QEMU_LIBRARY");
    if (!file || !*file) file = "libvirt-qemu.so.0";
    void *handle = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *why = dlerror();
        snprintf(qemu_failure, sizeof qemu_failure, "%s", why ? why : file);
        return;
    }
    void *p = dlsym(handle, "virDomainQemuAgentCommand");
    if (!p) {
        const char *why = dlerror();
        snprintf(qemu_failure, sizeof qemu_failure, "%s", why ? why : "libvirt-qemu.so.0 lacks virDomainQemuAgentCommand");
        return;
    }
    memcpy(&qemu_api.virDomainQemuAgentCommand, &p, sizeof p);
    qemu_loaded = &qemu_api;
}

const intermodal_libvirt_qemu_api *intermodal_libvirt_qemu_load(const char **error) {
    pthread_once(&qemu_once, load_qemu);
    *error = qemu_loaded ? NULL : qemu_failure;
    return qemu_loaded;
}
