import IntermodalCore
import SystemPackage

/// A user as the container's process runs: IDs resolved from the image's own account files.
struct ResolvedUser: Sendable, Equatable {
    var uid: UInt32
    var gid: UInt32
    var additionalGids: [UInt32]
    var home: String
}

/// Resolves `USER`/`-u` (`name`, `uid`, `name:group`, `uid:gid`) against `/etc/passwd` and
/// `/etc/group` inside the root file system, like Docker does.
enum UserResolver {
    static func resolve(_ spec: String?, rootfs: FilePath) throws(IntermodalError) -> ResolvedUser {
        let text = (spec ?? "").trimmed
        let passwd = readTable(rootfs, "etc/passwd")
        let groups = readTable(rootfs, "etc/group")
        if text.isEmpty {
            return ResolvedUser(uid: 0, gid: 0, additionalGids: supplementary("root", 0, groups), home: home(passwd, uid: 0) ?? "/root")
        }
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let userPart = parts[0]
        var uid: UInt32
        var gid: UInt32
        var userName: String?
        if let n = UInt32(userPart) {
            uid = n
            let entry = passwd.first { $0.count > 3 && UInt32($0[2]) == n }
            gid = entry.flatMap { UInt32($0[3]) } ?? 0
            userName = entry?[0]
        } else {
            guard let entry = passwd.first(where: { $0.first == userPart }), entry.count > 3,
                  let u = UInt32(entry[2]), let g = UInt32(entry[3]) else {
                throw IntermodalError(.notFound, "unable to find user \(userPart): no matching entries in the image's /etc/passwd")
            }
            uid = u
            gid = g
            userName = userPart
        }
        var explicitGroup = false
        if parts.count == 2 {
            let groupPart = parts[1]
            explicitGroup = true
            if let n = UInt32(groupPart) {
                gid = n
            } else {
                guard let entry = groups.first(where: { $0.first == groupPart }), entry.count > 2, let g = UInt32(entry[2]) else {
                    throw IntermodalError(.notFound, "unable to find group \(groupPart): no matching entries in the image's /etc/group")
                }
                gid = g
            }
        }
        let extra = explicitGroup ? [] : userName.map { supplementary($0, gid, groups) } ?? []
        return ResolvedUser(uid: uid, gid: gid, additionalGids: extra, home: home(passwd, uid: uid) ?? "/")
    }

    /// Groups listing `user` as a member, without the primary one.
    private static func supplementary(_ user: String, _ primary: UInt32, _ groups: [[String]]) -> [UInt32] {
        groups.compactMap { entry -> UInt32? in
            guard entry.count > 3, let g = UInt32(entry[2]), g != primary else { return nil }
            return entry[3].split(separator: ",").contains(Substring(user)) ? g : nil
        }
    }

    private static func home(_ passwd: [[String]], uid: UInt32) -> String? {
        passwd.first { $0.count > 5 && UInt32($0[2]) == uid }?[5]
    }

    /// Colon-separated records; a missing file is an empty table (images without accounts).
    private static func readTable(_ rootfs: FilePath, _ file: String) -> [[String]] {
        guard let path = try? ScopedPath.resolve(file, in: rootfs), let text = try? FileSystem.readString(path) else { return [] }
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map {
            $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        }
    }
}
