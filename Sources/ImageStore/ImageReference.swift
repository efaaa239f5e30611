/// A name for an image: `[registry/]repository[:tag]` (or `@sha256:...`), as users type it.
///
/// The registry part is recognised the way Docker does: the first path component when it contains
/// a `.` or a `:` or is `localhost`. Without one the reference names an image in the local store
/// (and `pull`/`push` need an explicit registry, since this host has no Docker Hub).
public struct ImageReference: Sendable, Hashable, CustomStringConvertible {
    /// Registry host (`127.0.0.1:5000`), or nil for a local name.
    public var registry: String?
    /// Repository path (`busybox`, `team/app`).
    public var repository: String
    /// Tag; `latest` when none was given.
    public var tag: String
    /// A manifest digest (`sha256:...`) when the reference was given by digest.
    public var digest: String?

    public init(registry: String? = nil, repository: String, tag: String = "latest", digest: String? = nil) {
        self.registry = registry
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    /// Parses `name[:tag]`, `host[:port]/name[:tag]` or `name@sha256:HEX`.
    public static func parse(_ text: String) throws(IntermodalError) -> ImageReference {
        var rest = Substring(text)
        guard !rest.isEmpty else { throw IntermodalError(.invalidArgument, "empty image reference") }
        var digest: String?
        if let at = rest.firstIndex(of: "@") {
            digest = String(rest[rest.index(after: at)...])
            rest = rest[..<at]
            guard let d = digest, Digest.isValid(d) else {
                throw IntermodalError(.invalidArgument, "invalid digest in image reference '\(text)'")
            }
        }
        var registry: String?
        if let slash = rest.firstIndex(of: "/") {
            let first = rest[..<slash]
            if first.contains(".") || first.contains(":") || first == "localhost" {
                registry = String(first)
                rest = rest[rest.index(after: slash)...]
            }
        }
        var tag = "latest"
        if let colon = rest.lastIndex(of: ":") {
            tag = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
            guard isValidTag(tag) else {
                throw IntermodalError(.invalidArgument, "invalid tag '\(tag)' in image reference '\(text)'")
            }
        }
        let repository = String(rest)
        guard isValidRepository(repository) else {
            throw IntermodalError(
                .invalidArgument,
                "invalid repository name '\(repository)' in '\(text)' (lowercase letters, digits, '.', '_', '-', '/')")
        }
        return ImageReference(registry: registry, repository: repository, tag: tag, digest: digest)
    }

    /// `repository:tag`, without the registry: the name an image has in the local store.
    public var localName: String { "\(repository):\(tag)" }

    /// The full reference as a user would type it.
    public var description: String {
        var s = registry.map { "\($0)/" } ?? ""
        s += repository
        if let digest { s += "@\(digest)" } else { s += ":\(tag)" }
        return s
    }

    /// The same reference without its registry (what it is called once pulled).
    public var withoutRegistry: ImageReference {
        ImageReference(repository: repository, tag: tag, digest: nil)
    }

    static func isValidTag(_ tag: String) -> Bool {
        guard let first = tag.utf8.first, tag.utf8.count <= 128 else { return false }
        guard isAlnum(first) || first == UInt8(ascii: "_") else { return false }
        return tag.utf8.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    static func isValidRepository(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 255 else { return false }
        for component in name.split(separator: "/", omittingEmptySubsequences: false) {
            guard let f = component.utf8.first, let l = component.utf8.last,
                  isLowerAlnum(f), isLowerAlnum(l) else { return false }
            guard component.utf8.allSatisfy({
                isLowerAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
            }) else { return false }
        }
        return true
    }

    private static func isAlnum(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
    }

    private static func isLowerAlnum(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7A)
    }
}

import IntermodalCore
