// swift-tools-version: 6.1
//
// Intermodal: how much lighter is a container than a virtual machine, measured.
//
// The targets read as the architecture, bottom up:
//   CLinuxShim        C: clone/unshare and every step between clone and execve in the child.
//   CSeccomp, CZlib   system libraries found through pkg-config.
//   CLibvirt          libvirt's headers, and libvirt.so.0 loaded with dlopen at first use.
//   IntermodalCore    the one error type, phase timestamps, subprocess and file helpers.
//   HostProbe         what this host offers (namespaces, cgroups, overlayfs, KVM, peers): `intermodal doctor`.
//   ContainerRuntime  our OCI runtime: config.json, namespaces, mounts, cgroups, seccomp, lifecycle.
//   ImageStore        OCI image layout, layers, Dockerfile parsing, registry client.
//   ContainerEngine   the Docker-style workflow: containers as writable layers over images; run, commit, build.
//   VirtualMachines   the same image booted as a libvirt guest.
//   BenchmarkResults  the results file (samples, environment, suite) and its statistics.
//   BenchmarkHarness  runs workloads natively, in our containers, in peer runtimes and in VMs.
//   Reports           gnuplot plots, Markdown and HTML reports, and `compare`, from results files.
//   intermodal, intermodal-runtime   thin command-line front ends.
//   intermodal-monitor                C: what stays on the host per detached container (as conmon).
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

/// For the code on the container start path (it runs once per `intermodal-runtime` call): call
/// type-metadata accessors directly instead of demangling type names at first use, which cost
/// every process about 0.8 ms of Codable and generic metadata set-up.
let fastStart: [SwiftSetting] = strict + [
    .unsafeFlags(["-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors"]),
]

let system: Target.Dependency = .product(name: "SystemPackage", package: "swift-system")

let package = Package(
    name: "Intermodal",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "intermodal", targets: ["intermodal"]),
        .executable(name: "intermodal-runtime", targets: ["intermodal-runtime"]),
        .executable(name: "intermodal-monitor", targets: ["intermodal-monitor"]),
        .library(name: "ContainerRuntime", targets: ["ContainerRuntime"]),
        .library(name: "ImageStore", targets: ["ImageStore"]),
        .library(name: "ContainerEngine", targets: ["ContainerEngine"]),
        .library(name: "VirtualMachines", targets: ["VirtualMachines"]),
        .library(name: "HostProbe", targets: ["HostProbe"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.0"),
        // Without its Foundation trait: the runtime binary must not pay Foundation's load time.
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.0", traits: []),
        // The registry client's HTTP: SwiftNIO, no libcurl (URLSession's) loaded by every CLI start.
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.100.0"),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.0", traits: ["MallocInterposer"]),
        // Suite files.
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
    ],
    targets: [
        // MARK: C and system libraries
        // The child path only: what a container's init runs between clone and execve.
        .target(name: "CLinuxShim", path: "Sources/CLinuxShim"),
        // The system calls the OS layer (IntermodalCore) needs that Glibc's module does not show.
        .target(name: "CIntermodalOS", path: "Sources/CIntermodalOS"),
        .systemLibrary(
            name: "CSeccomp", path: "Sources/CSeccomp", pkgConfig: "libseccomp",
            providers: [.apt(["libseccomp-dev"])]),
        // libvirt's headers (libvirt-dev) and a loader that dlopens libvirt.so.0 at first use: linking it
        // would load ~45 libraries into every `intermodal` call, VM or not.
        .target(name: "CLibvirt", path: "Sources/CLibvirt"),
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),

        // MARK: Libraries
        .target(
            name: "IntermodalCore",
            dependencies: [
                "CIntermodalOS",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: fastStart),
        .target(
            name: "HostProbe",
            dependencies: ["IntermodalCore", "CSeccomp", "ContainerRuntime", "VirtualMachines"],
            swiftSettings: fastStart),
        .target(
            name: "ContainerRuntime",
            dependencies: [
                "IntermodalCore", "CLinuxShim", "CSeccomp",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: fastStart),
        .target(
            name: "ImageStore",
            dependencies: [
                "IntermodalCore", "CZlib",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict),
        .target(
            name: "ContainerEngine",
            dependencies: [
                "IntermodalCore", "ImageStore", "ContainerRuntime",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict),
        .target(
            name: "VirtualMachines",
            dependencies: [
                "IntermodalCore", "CLibvirt", "ImageStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict),
        // The results file's model and its statistics: what the harness writes and reports read.
        .target(name: "BenchmarkResults", swiftSettings: strict),
        .target(
            name: "BenchmarkHarness",
            dependencies: [
                "IntermodalCore", "BenchmarkResults", "ContainerRuntime", "ContainerEngine", "ImageStore",
                "VirtualMachines", "HostProbe",
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: strict),
        .target(name: "Reports", dependencies: ["IntermodalCore", "BenchmarkResults", system], swiftSettings: strict),

        // MARK: Executables
        .executableTarget(
            name: "intermodal",
            dependencies: [
                "IntermodalCore", "HostProbe", "ContainerRuntime", "ImageStore", "ContainerEngine",
                "VirtualMachines", "BenchmarkHarness", "Reports",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict,
            // Every `intermodal run` pays the CLI's start-up: with the Swift runtime and Foundation
            // linked in, the loader maps and binds a handful of C libraries instead of ~14 Swift
            // ones. Not -static-executable (see intermodal-runtime): libvirt is dlopen'ed, which a
            // static glibc does not support.
            linkerSettings: [.unsafeFlags([
                "-static-stdlib", "-Xlinker", "-lCoreFoundation", "-Xlinker", "-l_FoundationICU",
                "-Xlinker", "-l_FoundationCShims", "-Xlinker", "-l_FoundationCollections", "-Xlinker", "--gc-sections",
                "-Xlinker", "--no-export-dynamic",
            ])]),
        // PID 1 of our guests: C, statically linked, packed into each guest's initramfs.
        .executableTarget(
            name: "intermodal-guest-init", path: "Sources/GuestInit",
            cSettings: [.unsafeFlags(["-Os"])],
            linkerSettings: [.unsafeFlags(["-static-executable", "-Xlinker", "--gc-sections", "-Xlinker", "--strip-all"])]),
        // What stays on the host per detached container (as podman's conmon): the Swift monitor
        // execs it once the container runs. C, static, -Os: ~0.1 MB instead of the CLI's ~6 MB.
        .executableTarget(
            name: "intermodal-monitor", path: "Sources/ContainerMonitor",
            cSettings: [.unsafeFlags(["-Os"])],
            linkerSettings: [.unsafeFlags(["-static-executable", "-Xlinker", "--gc-sections", "-Xlinker", "--strip-all"])]),
        .executableTarget(
            name: "intermodal-runtime",
            dependencies: [
                "IntermodalCore", "ContainerRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict,
            // Start-up time is measured against runc/crun: a static executable has no libraries to
            // load and no symbols to bind (about 0.7 ms less per call than -static-stdlib).
            linkerSettings: [.unsafeFlags([
                "-static-executable", "-Xlinker", "-l_FoundationCShims", "-Xlinker", "-l_FoundationCollections",
                "-Xlinker", "--gc-sections",
            ])]),

        // MARK: Tests (Swift Testing; they start real containers and boot real guests)
        .testTarget(name: "IntermodalCoreTests", dependencies: ["IntermodalCore", "BenchmarkResults", system]),
        .testTarget(name: "HostProbeTests", dependencies: ["HostProbe", "IntermodalCore", system]),
        .testTarget(name: "ContainerRuntimeTests", dependencies: ["ContainerRuntime", "IntermodalCore", system]),
        .testTarget(name: "ImageStoreTests", dependencies: ["ImageStore", "IntermodalCore", system]),
        .testTarget(
            name: "ContainerEngineTests",
            dependencies: ["ContainerEngine", "ImageStore", "ContainerRuntime", "IntermodalCore", system]),
        .testTarget(name: "VirtualMachinesTests", dependencies: ["VirtualMachines", "ImageStore", "IntermodalCore", system]),
        .testTarget(name: "CLITests", dependencies: ["IntermodalCore", "BenchmarkResults", system]),
        .testTarget(name: "BenchmarkHarnessTests", dependencies: ["BenchmarkHarness", "BenchmarkResults", "IntermodalCore", system]),
        // Reports and compare, from generated results files; the HTML report seen by headless Chromium.
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "BenchmarkResults", "IntermodalCore", system]),
        // The KVM path and a pure cgroup v2 kernel, for real, inside the nested lab (scripts/kvm-lab).
        .testTarget(
            name: "KVMLabTests",
            dependencies: ["VirtualMachines", "ImageStore", "BenchmarkResults", "IntermodalCore", system]),
        // Many instances at once in one process, as the harness runs them: nothing may starve the pool.
        .testTarget(
            name: "ConcurrencyTests",
            dependencies: ["ContainerEngine", "ContainerRuntime", "ImageStore", "VirtualMachines", "IntermodalCore", system]),

        // MARK: Benchmarks (ordo-one/benchmark; run with `swift package benchmark`)
        // Our libvirt guest boot against bare QEMU, interleaved: `swift run vm-boot-benchmark [RUNS]`.
        .executableTarget(
            name: "vm-boot-benchmark",
            dependencies: ["VirtualMachines", "IntermodalCore", system],
            path: "Benchmarks/VMBenchmarks", swiftSettings: strict),
        // `intermodal run --rm busybox true` against `runc run`, interleaved: `engine-run-benchmark [RUNS]`.
        .executableTarget(
            name: "engine-run-benchmark",
            dependencies: ["ContainerEngine", "ContainerRuntime", "ImageStore", "IntermodalCore", system],
            path: "Benchmarks/EngineBenchmarks", swiftSettings: strict),
        // Layer unpacking: ours against `tar -x` and `umoci unpack`, interleaved: `image-unpack-benchmark [RUNS] [busybox|debian]`.
        .executableTarget(
            name: "image-unpack-benchmark",
            dependencies: ["ImageStore", "IntermodalCore", system],
            path: "Benchmarks/ImageBenchmarks", swiftSettings: strict),
        .executableTarget(
            name: "RuntimeBenchmarks",
            dependencies: [
                "ContainerRuntime", "IntermodalCore",
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/RuntimeBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    ]
)
