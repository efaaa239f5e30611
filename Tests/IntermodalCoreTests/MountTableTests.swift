import BenchmarkResults
import IntermodalCore
import Testing

@Suite struct MountTableTests {
    static let sample = """
        22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw
        30 22 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw,nsdelegate
        31 22 0:27 / /sys/fs/cgroup/memory rw shared:9 - cgroup cgroup rw,memory
        40 1 0:50 / /var/lib/x/a\\040b rw - overlay overlay rw,lowerdir=/l1:/l2,upperdir=/u,workdir=/w
        41 1 0:51 / /var/lib/xy rw - tmpfs tmpfs rw
        garbage line
        42 1 0:52 / /short rw -
        """

    @Test func parsesEscapesOptionalFieldsAndSuperOptions() {
        let table = MountTable(text: Self.sample)
        #expect(table.entries.count == 5)
        #expect(table.entries[2].fileSystemType == "cgroup" && table.entries[2].superOptions == ["rw", "memory"])
        #expect(table.isMountPoint("/var/lib/x/a b"))
        #expect(table.entries[3].superOptions.contains("lowerdir=/l1:/l2"))
        // Below a path means the path or a child of it, not a sibling sharing its prefix.
        #expect(table.entries(under: "/var/lib/x").map(\.mountPoint) == ["/var/lib/x/a b"])
        #expect(table.entries(under: "/sys/fs/cgroup/").count == 2)
        #expect(table.entries(under: "/").count == 5)
        #expect(MountTable.current().isMountPoint("/proc"))
    }

    /// Seeded mutations of real lines: never a trap.
    @Test func mutatedTablesNeverTrap() {
        var rng = SplitMix64(seed: 42)
        let bytes = Array(Self.sample.utf8)
        for _ in 0..<3000 {
            var b = bytes
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                b[Int.random(in: 0..<b.count, using: &rng)] = [UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "\\"), UInt8(ascii: "\n"), 0xFF].randomElement(using: &rng)!
            }
            let table = MountTable(text: String(decoding: b, as: UTF8.self))
            _ = table.entries(under: "/var")
        }
    }
}
