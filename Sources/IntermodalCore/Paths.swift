import SystemPackage

/// Where Intermodal keeps its state on the host.
public enum IntermodalPaths {
    /// The store root: `--root`, else `$INTERMODAL_ROOT`, else `/var/lib/intermodal`.
    public static func storeRoot(override: String? = nil) -> FilePath {
        if let override, !override.isEmpty { return FilePath(override) }
        if let env = getenvString("INTERMODAL_ROOT"), !env.isEmpty { return FilePath(env) }
        return "/var/lib/intermodal"
    }

    /// Caches that are expensive to rebuild and keyed by their inputs (KVM probe, decompressed
    /// kernels, debootstrapped test fixtures): `$INTERMODAL_CACHE`, else `/var/cache/intermodal`.
    public static var cacheRoot: FilePath {
        if let env = getenvString("INTERMODAL_CACHE"), !env.isEmpty { return FilePath(env) }
        return "/var/cache/intermodal"
    }

    /// State of running containers for `intermodal-runtime` (runc uses `/run/runc`).
    public static let runtimeStateRoot: FilePath = "/run/intermodal-runtime"
}
