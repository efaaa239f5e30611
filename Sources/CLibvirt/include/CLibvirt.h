// libvirt's C API, loaded with dlopen at first use instead of linked.
//
// Linking libvirt made every `intermodal` start load it and its ~45 dependencies (glib, gnutls,
// libxml2, libssh, curl, sasl, ...): about half of the CLI's start-up time went to the dynamic
// loader. Only the VM commands and `doctor` need libvirt, so they load it, once, through this
// table. The headers still give Swift the types (virConnectPtr, virErrorNumber, flags).
#ifndef INTERMODAL_CLIBVIRT_H
#define INTERMODAL_CLIBVIRT_H

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libvirt/libvirt-qemu.h>

/// Every libvirt function Intermodal calls, resolved from libvirt.so.0. Fields carry the names of
/// the functions they point to; calling the real symbols directly would link libvirt again (and
/// fails to link, which is what keeps it so).
typedef struct intermodal_libvirt_api {
    __typeof__(virConnectOpen) *_Nonnull virConnectOpen;
    __typeof__(virConnectClose) *_Nonnull virConnectClose;
    __typeof__(virConnectGetLibVersion) *_Nonnull virConnectGetLibVersion;
    __typeof__(virConnectGetVersion) *_Nonnull virConnectGetVersion;
    __typeof__(virConnectGetHostname) *_Nonnull virConnectGetHostname;
    __typeof__(virConnectListAllDomains) *_Nonnull virConnectListAllDomains;
    __typeof__(virDomainCreateXML) *_Nonnull virDomainCreateXML;
    __typeof__(virDomainLookupByName) *_Nonnull virDomainLookupByName;
    __typeof__(virDomainDestroy) *_Nonnull virDomainDestroy;
    __typeof__(virDomainFree) *_Nonnull virDomainFree;
    __typeof__(virDomainGetID) *_Nonnull virDomainGetID;
    __typeof__(virDomainGetName) *_Nonnull virDomainGetName;
    __typeof__(virDomainIsActive) *_Nonnull virDomainIsActive;
    __typeof__(virGetLastError) *_Nonnull virGetLastError;
    __typeof__(virGetLastErrorMessage) *_Nonnull virGetLastErrorMessage;
    __typeof__(virSetErrorFunc) *_Nonnull virSetErrorFunc;
} intermodal_libvirt_api;

/// Loads libvirt.so.0 and resolves the table, once per process (thread-safe). Returns NULL when
/// the library or one of its functions is missing; `*error` then says why (dlerror's text, which
/// names the file or the symbol) and stays valid for the life of the process.
const intermodal_libvirt_api *_Nullable intermodal_libvirt_load(const char *_Nullable *_Nonnull error);

/// The QEMU-specific functions, from libvirt-qemu.so.0 (a library of its own, next to libvirt.so.0):
/// the guest agent's pass-through used by full-OS guests.
typedef struct intermodal_libvirt_qemu_api {
    __typeof__(virDomainQemuAgentCommand) *_Nonnull virDomainQemuAgentCommand;
} intermodal_libvirt_qemu_api;

/// Loads libvirt-qemu.so.0 (`$INTERMODAL_LIBVIRT_QEMU_LIBRARY` names another) once per process,
/// like ``intermodal_libvirt_load``; NULL and `*error` when it or its function is missing.
const intermodal_libvirt_qemu_api *_Nullable intermodal_libvirt_qemu_load(const char *_Nullable *_Nonnull error);

#endif
