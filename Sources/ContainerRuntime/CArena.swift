#if canImport(Glibc)
import Glibc
#endif

/// C memory for one `ims_config`: strings and arrays that live until the arena is released
/// (after the clone, the child has its own copy).
final class CArena {
    private var blocks: [UnsafeMutableRawPointer] = []

    deinit { for b in blocks { free(b) } }

    func string(_ s: String) -> UnsafePointer<CChar> {
        let p = strdup(s)!
        blocks.append(p)
        return UnsafePointer(p)
    }

    func optionalString(_ s: String?) -> UnsafePointer<CChar>? {
        s.map { string($0) }
    }

    /// A copy of `items` (plain C values) in malloc'ed memory.
    func array<T>(_ items: [T]) -> UnsafePointer<T>? {
        guard !items.isEmpty else { return nil }
        let raw = malloc(MemoryLayout<T>.stride * items.count)!
        blocks.append(raw)
        let p = raw.bindMemory(to: T.self, capacity: items.count)
        p.initialize(from: items, count: items.count)
        return UnsafePointer(p)
    }

    /// A NULL-terminated `char *const *` vector.
    func vector(_ strings: [String]) -> UnsafePointer<UnsafeMutablePointer<CChar>?> {
        var items: [UnsafeMutablePointer<CChar>?] = strings.map { UnsafeMutablePointer(mutating: string($0)) }
        items.append(nil)
        return array(items)!
    }

    /// A `const char *const *` list (not terminated; the count travels separately).
    func list(_ strings: [String]) -> UnsafePointer<UnsafePointer<CChar>?>? {
        array(strings.map { Optional(string($0)) })
    }

    func bytes(_ b: [UInt8]) -> UnsafePointer<UInt8>? { array(b) }
}
