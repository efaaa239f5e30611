#if canImport(Glibc)
import Glibc
#endif
import IntermodalCore
import SystemPackage

/// Writes an empty qcow2 (version 3) image backed by a raw file: what
/// `qemu-img create -f qcow2 -F raw -b BASE OVERLAY` makes, without starting a program per guest.
///
/// Layout, 64 KiB clusters: 0 header (+ backing-format extension and backing file name),
/// 1 refcount table, 2 refcount block (16-bit counts: clusters 0-3 in use), 3 L1 table (empty:
/// every read falls through to the backing file).
enum QCOW2Overlay {
    static let clusterBits: UInt32 = 16
    static let clusterSize = 1 << 16

    static func create(backing: FilePath, backingSize: Int64, at path: FilePath) throws(IntermodalError) {
        let name = Array(backing.string.utf8)
        guard !name.isEmpty, name.count <= 1023 else {
            throw IntermodalError(.invalidArgument, "backing file name \(backing) is too long for qcow2 (1023 bytes)")
        }
        // One L2 table maps clusterSize/8 clusters; the L1 table needs one entry per L2 table.
        let bytesPerL2 = Int64(clusterSize / 8) * Int64(clusterSize)
        let l1Entries = Int((backingSize + bytesPerL2 - 1) / bytesPerL2)
        guard l1Entries * 8 <= clusterSize else {
            throw IntermodalError(.unsupported, "base disk \(backing) is too large for a one-cluster L1 table")
        }
        var image = [UInt8](repeating: 0, count: 4 * clusterSize)
        func put32(_ v: UInt32, _ at: Int) { for i in 0..<4 { image[at + i] = UInt8(truncatingIfNeeded: v >> (24 - 8 * UInt32(i))) } }
        func put64(_ v: UInt64, _ at: Int) { for i in 0..<8 { image[at + i] = UInt8(truncatingIfNeeded: v >> (56 - 8 * UInt64(i))) } }
        let headerLength = 104
        let extensionStart = headerLength
        let backingNameOffset = extensionStart + 8 + 8 + 8   // format extension (header + "raw" padded) + end marker
        put32(0x5146_49FB, 0)                  // magic "QFI\xfb"
        put32(3, 4)                            // version
        put64(UInt64(backingNameOffset), 8)    // backing_file_offset
        put32(UInt32(name.count), 16)          // backing_file_size
        put32(clusterBits, 20)
        put64(UInt64(backingSize), 24)         // virtual size
        put32(0, 32)                           // no encryption
        put32(UInt32(l1Entries), 36)           // l1_size
        put64(UInt64(3 * clusterSize), 40)     // l1_table_offset
        put64(UInt64(clusterSize), 48)         // refcount_table_offset
        put32(1, 56)                           // refcount_table_clusters
        // nb_snapshots, snapshots_offset, incompatible/compatible/autoclear features: 0
        put32(4, 96)                           // refcount_order: 16-bit refcounts
        put32(UInt32(headerLength), 100)
        put32(0xE279_2ACA, extensionStart)     // backing file format name
        put32(3, extensionStart + 4)
        for (i, b) in "raw".utf8.enumerated() { image[extensionStart + 8 + i] = b }
        // End of extensions: 8 zero bytes (already zero).
        for (i, b) in name.enumerated() { image[backingNameOffset + i] = b }
        put64(UInt64(2 * clusterSize), clusterSize)                   // refcount table[0] -> block
        for cluster in 0..<4 { image[2 * clusterSize + 2 * cluster + 1] = 1 }   // refcount 1, big-endian u16
        try VirtualMachine.write(image, to: path)
    }
}
