import IntermodalCore
import SystemPackage
import Testing
@testable import ContainerRuntime

@Suite("Capabilities")
struct CapabilitiesTests {
    @Test func tableMatchesTheKernelHeader() throws {
        // linux/capability.h from linux-libc-dev is the authority for the numbers.
        let header: FilePath = "/usr/include/linux/capability.h"
        try #require(FileSystem.exists(header))
        var fromHeader: [String: Int32] = [:]
        for line in try FileSystem.readString(header).split(separator: "\n") {
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard f.count >= 3, f[0] == "#define", f[1].hasPrefix("CAP_"), let n = Int32(f[2]) else { continue }
            fromHeader[String(f[1])] = n
        }
        for (i, name) in Capabilities.names.enumerated() {
            if let n = fromHeader[name] { #expect(n == Int32(i), "\(name)") }
        }
        #expect(fromHeader["CAP_CHOWN"] == 0)
        #expect(Capabilities.names.count == 41)
    }

    @Test func namesAndNumbers() throws {
        #expect(try Capabilities.number(named: "CAP_NET_RAW") == 13)
        #expect(try Capabilities.number(named: "net_raw") == 13)
        #expect(try Capabilities.number(named: "CAP_SYS_ADMIN") == 21)
        #expect(try Capabilities.number(named: "CAP_CHECKPOINT_RESTORE") == 40)
        #expect(Capabilities.name(of: 0) == "CAP_CHOWN")
        #expect(Capabilities.name(of: 41) == nil)
        #expect(try Capabilities.mask(of: ["CAP_CHOWN", "CAP_KILL"]) == 0b100001)
    }

    @Test func unknownNamesAreErrorsNamingThem() {
        #expect {
            _ = try Capabilities.number(named: "CAP_FLY")
        } throws: { error in
            let e = error as! IntermodalError
            return e.code == .invalidArgument && e.message == "unknown capability \"CAP_FLY\""
        }
    }

    @Test func allIsLimitedToThisKernel() async throws {
        let last = Int(try FileSystem.readString("/proc/sys/kernel/cap_last_cap").split(separator: "\n")[0])!
        #expect(Capabilities.all.count == min(last, 40) + 1)
        #expect(Capabilities.all.first == "CAP_CHOWN")
        // libcap's capsh names this kernel's capabilities in number order: it must agree.
        if HostCommand.find("capsh") != nil {
            let mask = (UInt64(1) << UInt64(last + 1)) - 1
            let out = try await HostCommand.check("capsh", ["--decode=" + String(mask, radix: 16)])
            let names = out.split(separator: "=").last.map { $0.split(separator: ",").map { $0.trimmingTrailingWhitespace } } ?? []
            #expect(names == Capabilities.all.map { $0.lowercased() })
        }
    }
}
