import IntermodalCore
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// One thing `system check` found: what is wrong, and the command or step that repairs it.
public struct StoreFinding: Sendable, Equatable {
    public enum Severity: String, Sendable {
        /// Something the user stored is unusable or at risk: the check fails.
        case damage
        /// Left over by interrupted work, unused, reclaimed by the next command that takes the
        /// store's lock (or by `--repair`): reported, the check still passes.
        case leftover
    }

    public var severity: Severity
    /// What is wrong, naming the object (image name, digest, path).
    public var problem: String
    /// How to repair it: a command to run, or what `--repair` does.
    public var repair: String

    public init(_ severity: Severity, _ problem: String, repair: String) {
        self.severity = severity
        self.problem = problem
        self.repair = repair
    }
}

extension ImageStore {
    /// Verifies the whole image store: `index.json` parses; every image it names loads (manifest
    /// and config parse, one diff ID per layer); every blob on disk hashes to its name; every
    /// layer an image needs is present; and lists what nothing refers to (blobs, unpacked
    /// layers, work left in `tmp/`). Reads only; nothing is changed.
    public func check() -> [StoreFinding] {
        var findings: [StoreFinding] = []
        // Every blob, by content.
        var intact = Set<String>()
        let names = (try? FileSystem.list(blobsDirectory)) ?? []
        for name in names {
            let digest = "sha256:" + name
            guard Digest.isValid(digest) else {
                findings.append(StoreFinding(
                    .damage, "\(blobsDirectory.appending(name)) is not named by a sha256 digest",
                    repair: "move it out of \(blobsDirectory) (it is not part of any image)"))
                continue
            }
            do throws(IntermodalError) {
                let actual = try Digest.sha256(file: blobsDirectory.appending(name))
                if actual == digest {
                    intact.insert(digest)
                } else {
                    findings.append(StoreFinding(
                        .damage, "blob \(digest) is corrupt: its content hashes to \(actual)",
                        repair: "remove the images that use it (listed below, if any) and pull or load them again; `intermodal system check --repair` removes the blob itself only if no image uses it"))
                }
            } catch {
                findings.append(StoreFinding(.damage, "blob \(digest) cannot be read: \(error)", repair: "check the disk; then as for a corrupt blob"))
            }
        }
        let index: ImageIndex
        do throws(IntermodalError) {
            index = try readIndex()
        } catch {
            let manifests = manifestsAmongBlobs(intact)
            findings.append(StoreFinding(
                .damage, "\(error.message)",
                repair: "`intermodal system check --repair` writes a new index.json naming the \(manifests.count) image manifest\(manifests.count == 1 ? "" : "s") found among the blobs as untagged images (nothing is deleted); then `intermodal tag ID NAME` names them again"))
            return findings
        }
        var referenced = Set<String>()
        var referencedDiffIDs = Set<String>()
        var reported = Set<String>()
        for descriptor in index.manifests {
            let handle = descriptor.annotations?[refNameAnnotation] ?? descriptor.digest
            referenced.insert(descriptor.digest)
            guard !MediaType.isIndex(descriptor.mediaType) else {
                if let bytes = try? readBlob(descriptor.digest), let nested = try? JSON.decode(ImageIndex.self, from: bytes, what: "index") {
                    for m in nested.manifests { referenced.insert(m.digest) }
                }
                continue
            }
            do throws(IntermodalError) {
                let image = try loadImage(manifestDigest: descriptor.digest)
                referenced.insert(image.configDigest)
                for layer in image.layers {
                    referenced.insert(layer.digest)
                    referencedDiffIDs.insert(Digest.hex(layer.diffID))
                    guard !intact.contains(layer.digest), !reported.contains(handle + layer.digest) else { continue }
                    reported.insert(handle + layer.digest)
                    let state = names.contains(Digest.hex(layer.digest)) ? "corrupt" : "missing"
                    findings.append(StoreFinding(
                        .damage, "image \(handle): layer \(layer.digest) is \(state)",
                        repair: "`intermodal rmi --force \(handle)`, then pull, load or build it again"))
                }
            } catch {
                // What its manifest names is still its own, not unreferenced.
                if let bytes = try? readBlob(descriptor.digest), let manifest = try? JSON.decode(Manifest.self, from: bytes, what: "manifest") {
                    referenced.insert(manifest.config.digest)
                    for layer in manifest.layers { referenced.insert(layer.digest) }
                }
                findings.append(StoreFinding(
                    .damage, "image \(handle) (\(descriptor.digest)) is damaged: \(error.message)",
                    repair: "`intermodal rmi --force \(handle)` removes it (its blobs go only if no other image uses them)"))
            }
        }
        let unused = intact.subtracting(referenced).sorted()
        if !unused.isEmpty {
            findings.append(StoreFinding(
                .leftover, "\(unused.count) blob\(unused.count == 1 ? "" : "s") no image refers to: \(unused.joined(separator: ", "))",
                repair: "removed by the next `rmi`, `tag` or image-making command, or by `intermodal system check --repair`"))
        }
        let layers = ((try? FileSystem.list(layersDirectory)) ?? []).filter { !referencedDiffIDs.contains($0) }
        if !layers.isEmpty {
            findings.append(StoreFinding(
                .leftover, "\(layers.count) unpacked layer\(layers.count == 1 ? "" : "s") no image uses: \(layers.map { "sha256:" + $0 }.joined(separator: ", "))",
                repair: "removed by the next garbage collection (`rmi`, `tag`, or `intermodal system check --repair`) unless a container's overlay still uses it"))
        }
        let work = (try? FileSystem.list(temporaryDirectory)) ?? []
        if !work.isEmpty {
            findings.append(StoreFinding(
                .leftover, "\(work.count) entr\(work.count == 1 ? "y" : "ies") in \(temporaryDirectory) left by interrupted work: \(work.joined(separator: ", "))",
                repair: "removed by the next command that takes the store's lock while no other is working, or by `intermodal system check --repair`"))
        }
        return findings
    }

    /// What `system check --repair` may do to the image store, each step named in what it returns:
    /// a missing or unreadable `index.json` is rebuilt from the manifests among the blobs (as
    /// untagged images: nothing deleted, the old file kept beside it); work left in `tmp/` and
    /// blobs and unpacked layers no image refers to are removed. Damaged images are never removed
    /// here: `rmi --force NAME` does that, named by the user.
    public func repair() async throws(IntermodalError) -> [String] {
        var done: [String] = []
        if (try? readIndex()) == nil {
            var intact = Set<String>()
            for name in (try? FileSystem.list(blobsDirectory)) ?? [] {
                if let digest = try? Digest.sha256(file: blobsDirectory.appending(name)), digest == "sha256:" + name { intact.insert(digest) }
            }
            let manifests = manifestsAmongBlobs(intact)
            try await FileLock(indexLockPath).withLock(.exclusive) { () throws(IntermodalError) in
                if FileSystem.exists(indexPath) {
                    let kept = FilePath(indexPath.string + ".damaged-\(time(nil))")
                    guard rename(indexPath.string, kept.string) == 0 else { throw .system("cannot move \(indexPath) aside") }
                    done.append("moved the unreadable \(indexPath) to \(kept)")
                }
                var index = ImageIndex()
                index.manifests = manifests
                try FileSystem.writeAtomically(try JSON.encode(index), to: indexPath)
            }
            done.append("wrote \(indexPath) naming \(manifests.count) manifest\(manifests.count == 1 ? "" : "s") found among the blobs, untagged: \(manifests.map(\.digest).joined(separator: ", "))")
        }
        let before = Set((try? FileSystem.list(blobsDirectory)) ?? [])
        let layersBefore = Set((try? FileSystem.list(layersDirectory)) ?? [])
        let tmpBefore = (try? FileSystem.list(temporaryDirectory)) ?? []
        try await collectGarbage()
        let blobsGone = before.subtracting(Set((try? FileSystem.list(blobsDirectory)) ?? [])).sorted()
        let layersGone = layersBefore.subtracting(Set((try? FileSystem.list(layersDirectory)) ?? [])).sorted()
        if !tmpBefore.isEmpty { done.append("removed from \(temporaryDirectory): \(tmpBefore.joined(separator: ", "))") }
        if !blobsGone.isEmpty { done.append("removed unreferenced blobs: \(blobsGone.map { "sha256:" + $0 }.joined(separator: ", "))") }
        if !layersGone.isEmpty { done.append("removed unused unpacked layers: \(layersGone.map { "sha256:" + $0 }.joined(separator: ", "))") }
        return done
    }

    /// The intact blobs that are image manifests whose config and layers are all intact: what an
    /// index rebuilt from the blobs names.
    private func manifestsAmongBlobs(_ intact: Set<String>) -> [Descriptor] {
        var result: [Descriptor] = []
        for digest in intact.sorted() {
            guard let path = try? blobPath(digest), let size = fileSize(path), size <= 4 << 20,
                  let bytes = try? readBlob(digest),
                  let manifest = try? JSON.decode(Manifest.self, from: bytes, what: "manifest"),
                  MediaType.isManifest(manifest.mediaType ?? MediaType.ociManifest) || manifest.mediaType == nil,
                  intact.contains(manifest.config.digest), manifest.layers.allSatisfy({ intact.contains($0.digest) }),
                  (try? loadImage(manifestDigest: digest)) != nil
            else { continue }
            result.append(Descriptor(mediaType: MediaType.ociManifest, digest: digest, size: Int64(bytes.count)))
        }
        return result
    }

    private func fileSize(_ path: FilePath) -> Int64? {
        var st = stat()
        return stat(path.string, &st) == 0 ? Int64(st.st_size) : nil
    }
}
