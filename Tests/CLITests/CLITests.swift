#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import IntermodalCore
import SystemPackage
import Testing

/// Runs the built `intermodal` executable, as a user would.
enum BuiltProducts {
    /// The directory of the test bundle, where SwiftPM also puts the package's executables.
    static var directory: FilePath {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let exe = FilePath(String(decoding: buffer[0..<max(0, n)].map(UInt8.init(bitPattern:)), as: UTF8.self))
        return exe.removingLastComponent()
    }

    static func intermodal(_ arguments: [String], environment: [String: String]? = nil) async throws -> CommandResult {
        try await HostCommand.run(directory.appending("intermodal").string, arguments, environment: environment)
    }
}

@Suite struct CLITests {
    @Test func doctorJSONIsAReportOfRealChecks() async throws {
        let r = try await BuiltProducts.intermodal(["doctor", "--json"])
        #expect(r.exitCode == 0, "\(r.standardError)")
        struct Row: Decodable { var name: String; var status: String; var detail: String; var required: Bool }
        struct Report: Decodable { var results: [Row]; var generatedAtUnix: Int64 }
        let report = try JSONDecoder().decode(Report.self, from: Data(r.standardOutput.utf8))
        let names = Set(report.results.map(\.name))
        for expected in ["kernel", "distribution", "cgroups", "namespace: pid", "namespace: user", "seccomp (libseccomp)",
                         "overlayfs", "libvirtd", "qemu", "KVM", "guest kernel", "gnuplot", "peer: runc"] {
            #expect(names.contains(expected), "doctor has no \(expected) line")
        }
        let kvm = report.results.first { $0.name == "KVM" }
        // Either way the line must say which accelerator is used, never be silent about it.
        #expect(kvm?.detail.contains("TCG") == true || kvm?.status == "ok")
    }

    @Test func doctorTableNamesEachCheck() async throws {
        let r = try await BuiltProducts.intermodal(["doctor"])
        #expect(r.exitCode == 0, "\(r.standardError)")
        #expect(r.standardOutput.hasPrefix("CHECK"))
        #expect(r.standardOutput.contains("namespace: network"))
    }

    /// libvirt is loaded with dlopen at first use, so a host without it still runs `intermodal`,
    /// and the VM parts say what is missing instead of the loader refusing to start the binary.
    @Test func withoutLibvirtDoctorAndVMCommandsSayWhatIsMissing() async throws {
        let missing = ["INTERMODAL_LIBVIRT_LIBRARY": "/nonexistent/libvirt.so.0"]
        let doctor = try await BuiltProducts.intermodal(["doctor"], environment: missing)
        let line = doctor.standardOutput.split(separator: "\n").first { $0.hasPrefix("libvirtd") } ?? ""
        #expect(line.contains("missing") && line.contains("libvirt is not installed"), "\(doctor.standardOutput)")
        #expect(line.contains("/nonexistent/libvirt.so.0"), "names the library it could not load: \(line)")
        #expect(doctor.standardError.contains("scripts/setup"))
        #expect(!doctor.standardError.contains("Fatal error"))
        // Commands that need no libvirt are untouched by its absence.
        let version = try await BuiltProducts.intermodal(["--version"], environment: missing)
        #expect(version.exitCode == 0, "\(version.standardError)")
        let vm = try await BuiltProducts.intermodal(["vm", "ps"], environment: missing)
        #expect(vm.exitCode != 0)
        #expect(vm.standardError.hasPrefix("intermodal: error: libvirt is not installed"), "\(vm.standardError)")
        #expect(!vm.standardError.contains("Fatal error"))
    }

    @Test func aFailingCommandFailsWithOneClearLine() async throws {
        let r = try await BuiltProducts.intermodal(["bench", "--suite", "/nonexistent/suite.toml"])
        #expect(r.exitCode != 0)
        let lines = r.standardError.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(r.standardError.hasPrefix("intermodal: error: "))
        #expect(!r.standardError.contains("Fatal error"))
    }

    @Test func aBadFlagIsAUsageErrorNotACrash() async throws {
        let r = try await BuiltProducts.intermodal(["doctor", "--no-such-flag"])
        #expect(r.exitCode == 64)
        #expect(r.standardError.contains("--no-such-flag"))
    }
}
