import Foundation
import PVecStore
import PVecTensor

/// Push and pull against an OCI registry (registry-schema/oci.md): objects first, parents
/// before children, names last; only what the other side lacks moves.
enum OCIRemote {
    typealias Report = RemoteSync.Report

    /// One artifact as it goes to the registry.
    struct Planned {
        var id: ArtifactID
        var manifestBytes: [UInt8]
        var blob: BlobID?
        var oci: OCIMapping.ImageManifest
        var ociBytes: [UInt8]
        var digest: String
        var descriptor: OCIMapping.Descriptor {
            OCIMapping.Descriptor(mediaType: OCIMapping.imageManifest, digest: digest, size: ociBytes.count,
                                  artifactType: oci.artifactType)
        }
    }

    // MARK: - Push

    /// Tag moves audited per catalog transaction.
    static let auditGroup = 64

    /// The most raw blob bytes a push keeps between measuring and uploading them.
    static let rawCacheBytes = 512 << 20

    static func push(_ registry: Registry, remote name: String, names: [String], force: Bool, command: String,
                     progress: RemoteSync.Progress?) throws -> Report {
        var config = try RemoteConfig.load(for: registry)
        let client = try config.ociClient(name)
        let mountSources = try config.ociMountSources(for: name)
        var report = Report()
        var roots: [(name: String, tag: String, id: ArtifactID)] = []
        for n in names {
            let plain = n.split(separator: "@").first.map(String.init) ?? n
            roots.append((plain, try OCIMapping.tag(forName: plain), try registry.resolve(n)))
        }
        let closure = try registry.closure(of: roots.map(\.id))

        // Raw canonical blobs (decoded from PVB1) and their sizes. Decoding is the push's main
        // local cost, so the raw bytes wait for their upload while they fit in
        // `rawCacheBytes`; larger pushes decode the rest again when they upload them.
        let sizes = Locked([BlobID: Int]())
        let raws = Locked((blobs: [BlobID: [UInt8]](), bytes: 0))
        try RemoteSync.parallel(closure.blobs, width: streams) { b in
            let raw = try registry.canonicalBlob(b)
            sizes.with { $0[b] = raw.count }
            raws.with { c in
                guard c.bytes + raw.count <= rawCacheBytes else { return }
                c.blobs[b] = raw
                c.bytes += raw.count
            }
        }
        // The repository's tags, read once: which id and name tags exist (only those are
        // read one by one), and the version numbers taken.
        let tagList = try client.tags()
        let tagSet = Set(tagList)
        // OCI manifests, parents first: a child names its parents' manifest digests.
        var planned: [Planned] = []
        var digestOf: [ArtifactID: Planned] = [:]
        // Generation of each artifact: 0 for roots of the lineage, 1 + its deepest parent's.
        var generation: [ArtifactID: Int] = [:]
        for m in closure.manifests {
            let bytes = try registry.manifestBytes(m)
            let man = try registry.manifest(m)
            generation[m] = 1 + (man.parents.compactMap { generation[$0.id] }.max() ?? -1)
            let blob: (id: BlobID, size: Int)? = man.blob.map { b in (b, sizes.with { $0[b] ?? 0 }) }
            var oci = OCIMapping.artifactManifest(id: m, manifestBytes: bytes, kind: man.kind.rawValue, blob: blob,
                                                  parentDigests: man.parents.compactMap { digestOf[$0.id]?.digest })
            // An evaluation refers to what it evaluates, so a pull finds it through referrers.
            if let evaluated = man.parents.first(where: { $0.role == .evaluated }), let p = digestOf[evaluated.id] {
                oci.subject = OCIMapping.Descriptor(mediaType: OCIMapping.imageManifest, digest: p.digest, size: p.ociBytes.count)
            }
            let ociBytes = oci.bytes
            let p = Planned(id: m, manifestBytes: bytes, blob: man.blob, oci: oci, ociBytes: ociBytes,
                            digest: "sha256:" + Digest.sha256Hex(ociBytes))
            planned.append(p)
            digestOf[m] = p
        }
        var signatures: [(sig: ArtifactSignature, subject: Planned)] = []
        for p in planned { for s in try registry.signatures(of: p.id) { signatures.append((s, p)) } }

        // Blobs: tensors, pvec manifests (configs), signatures, the empty blob; HEAD first.
        enum Upload: Sendable { case tensor(BlobID), bytes([UInt8], String) }
        var uploads: [Upload] = closure.blobs.map { .tensor($0) }
        uploads += planned.map { .bytes($0.manifestBytes, "sha256:" + $0.id.hex) }
        for (s, _) in signatures { let b = OCIMapping.signatureBytes(s); uploads.append(.bytes(b, "sha256:" + Digest.sha256Hex(b))) }
        if planned.contains(where: { $0.blob == nil }) || !signatures.isEmpty {
            uploads.append(.bytes(OCIMapping.emptyBytes, OCIMapping.emptyDigest))
        }
        let counter = RemoteSync.Counter()
        let tensorsSent = Locked(0)
        let tensorsMounted = Locked(0)
        let total = uploads.count + planned.count
        /// Uploads one blob, mounted from another repository of this registry that holds it
        /// (another oci:// remote on the same host) when there is one; true when mounted.
        @Sendable func upload(_ bytes: () throws -> [UInt8], digest: String) throws -> (mounted: Bool, size: Int) {
            var from: String?
            for source in mountSources where try source.hasBlob(digest) {
                from = source.repository
                break
            }
            let raw = try bytes()
            return (try client.putBlob(raw, digest: digest, mountFrom: from), raw.count)
        }
        try RemoteSync.parallel(uploads, width: streams) { u in
            switch u {
            case .tensor(let b):
                let digest = "sha256:" + b.hex
                let raw = raws.with { $0.blobs.removeValue(forKey: b) }
                if try client.hasBlob(digest) { return }
                let (mounted, size) = try upload({ try raw ?? registry.canonicalBlob(b) }, digest: digest)
                if mounted { tensorsMounted.with { $0 += 1 } } else { tensorsSent.with { $0 += 1 } }
                let (n, sent) = counter.add(mounted ? 0 : size)
                progress?("push", n, total, sent)
            case .bytes(let bytes, let digest):
                if try client.hasBlob(digest) { return }
                let (mounted, size) = try upload({ bytes }, digest: digest)
                let (n, sent) = counter.add(mounted ? 0 : size)
                progress?("push", n, total, sent)
            }
        }
        report.blobs = tensorsSent.with { $0 }
        report.mounted = tensorsMounted.with { $0 }
        report.bytes = counter.bytes

        // Manifests, each under its id tag: which are there already (HEAD, in parallel), then
        // the missing ones one generation at a time, parents before children, each generation
        // in parallel. (An unreadable id tag, as a registry killed mid-push can leave, is put again.)
        var fallback: [String: [OCIMapping.Descriptor]] = [:]
        for p in planned {
            if let subject = p.oci.subject { fallback[subject.digest, default: []].append(p.descriptor) }
        }
        // An id tag missing from the tag list is not there (or arrived since, from a push of the
        // same content: putting it again is harmless), so only listed ones are asked.
        let present = Locked(Set<ArtifactID>())
        try RemoteSync.parallel(planned.filter { tagSet.contains(OCIMapping.idTag($0.id)) }.map { ($0.id, $0.digest) },
                                width: streams) { id, digest in
            if try client.manifestDigestIfReadable(OCIMapping.idTag(id)) == digest { present.with { _ = $0.insert(id) } }
        }
        let have = present.with { $0 }
        let missing = Dictionary(grouping: planned.filter { !have.contains($0.id) }) { generation[$0.id] ?? 0 }
        let sent = Locked((manifests: 0, bytes: 0, referrers: false))
        let bytesBefore = report.bytes
        let uploadCount = uploads.count
        for (_, group) in missing.sorted(by: { $0.key < $1.key }) {
            try RemoteSync.parallel(group.map { ($0.id, $0.ociBytes, $0.manifestBytes.count) }, width: streams) { id, ociBytes, configSize in
                let headers = try client.putManifest(ociBytes, reference: OCIMapping.idTag(id))
                let (n, b) = sent.with { s -> (Int, Int) in
                    s.manifests += 1
                    s.bytes += configSize + ociBytes.count
                    if headers["oci-subject"] != nil { s.referrers = true }
                    return (s.manifests, s.bytes)
                }
                progress?("push", uploadCount + n, total, bytesBefore + b)
            }
        }
        let manifestsSent = sent.with { $0 }
        report.manifests += manifestsSent.manifests
        report.bytes += manifestsSent.bytes
        var supportsReferrers = manifestsSent.referrers
        // Signatures: their own manifests, referring to the signed one.
        for (s, subject) in signatures {
            let (m, _) = OCIMapping.signatureManifest(s, subject: subject.descriptor)
            let bytes = m.bytes
            let digest = "sha256:" + Digest.sha256Hex(bytes)
            let d = OCIMapping.Descriptor(mediaType: OCIMapping.imageManifest, digest: digest, size: bytes.count,
                                          artifactType: OCIMapping.signatureType)
            fallback[subject.digest, default: []].append(d)
            if try client.manifestDigestIfReadable(digest) != nil { continue }
            let headers = try client.putManifest(bytes, reference: digest)
            if headers["oci-subject"] != nil { supportsReferrers = true }
        }
        // The referrers fallback (registries without the referrers API): one index per subject.
        if !supportsReferrers {
            for (subject, wanted) in fallback.sorted(by: { $0.key < $1.key }) {
                let have = tagSet.contains(OCIMapping.referrersTag(subject)) ? try client.fallbackReferrers(of: subject) : []
                let haveDigests = Set(have.map(\.digest))
                let add = wanted.filter { !haveDigests.contains($0.digest) }
                guard !add.isEmpty else { continue }
                try client.putManifest(OCIMapping.index(have + add), reference: OCIMapping.referrersTag(subject),
                                       type: OCIMapping.imageIndex)
            }
        }

        // Names: read each tag (in parallel), decide, then move the tags (in parallel): put
        // the version tag, read the tag again just before moving it (the window in which another
        // push can slip in shrinks to the PUT; registry-schema/oci.md describes the race that
        // remains), move it and read it back. Audit rows and the report follow, in name order.
        // A tag missing from the tag list counts as absent without a request (the read just
        // before the move catches one that appeared since); a listed one is asked with a HEAD,
        // and its manifest is fetched only when it is not the one this push would put there.
        var seen = Set<String>()
        let unique = roots.filter { seen.insert($0.name).inserted }
        let currents = Locked([String: (digest: String?, id: ArtifactID?)]())
        let plannedDigest = digestOf.mapValues(\.digest)
        try RemoteSync.parallel(unique.filter { tagSet.contains($0.tag) }.map { ($0.tag, $0.id) }, width: streams) { tag, id in
            let digest = try client.manifestDigest(tag)
            let c: (digest: String?, id: ArtifactID?) = digest == nil ? (nil, nil)
                : digest == plannedDigest[id] ? (digest, id) : try currentArtifact(client, tag: tag)
            currents.with { $0[tag] = c }
        }
        let current = currents.with { $0 }
        var conflict: RemoteError?
        struct Move: Sendable {
            var plain: String, tag: String, id: ArtifactID, ociBytes: [UInt8], digest: String
            var currentDigest: String?, currentID: ArtifactID?, versionTag: String
        }
        var moves: [Move] = []
        for (plain, tag, id) in unique {
            guard let p = digestOf[id] else { continue }
            let now = current[tag] ?? (nil, nil)
            if now.id == id {
                report.names.append((plain, id, false))
                config.remotes[name]?.tracking[plain] = id
                continue
            }
            let expected = config.remotes[name]?.tracking[plain]
            if !force, now.digest != nil, now.id != expected {
                conflict = conflict ?? .conflict(name: plain, message: "the registry has \(now.id?.short ?? "something that is not a pvec artifact") there, this registry last saw \(expected?.short ?? "nothing"); use --force to overwrite")
                continue
            }
            let version = tagList.compactMap { OCIMapping.version(ofTag: $0, nameTag: tag) }.max().map { $0 + 1 } ?? 1
            moves.append(Move(plain: plain, tag: tag, id: id, ociBytes: p.ociBytes, digest: p.digest,
                              currentDigest: now.digest, currentID: now.id, versionTag: OCIMapping.versionTag(tag, version)))
        }
        // The audit rows are written in name order while later tags are still moving, in
        // groups of `auditGroup` (one transaction each), and whatever is left when the moves
        // end or fail: a tag that moved is audited whatever happened to the next.
        enum Outcome: Sendable { case overtaken, readBack(String?, before: String?) }
        var audit: [Registry.RemoteTagMove] = []
        func writeAudit() throws {
            let rows = audit
            audit.removeAll()
            try registry.recordRemoteTagMoves(rows, command: command)
        }
        do {
            try RemoteSync.parallel(moves, width: streams, { m -> Outcome in
                try client.putManifest(m.ociBytes, reference: m.versionTag)
                let before = try client.manifestDigest(m.tag)
                if !force, before != m.currentDigest { return .overtaken }
                try client.putManifest(m.ociBytes, reference: m.tag)
                return .readBack(try client.manifestDigest(m.tag), before: before)
            }, inOrder: { m, outcome in
                guard case .readBack(let after, let before) = outcome else {
                    conflict = conflict ?? .conflict(name: m.plain, message: "another push moved it while this one was sending objects")
                    return
                }
                audit.append(Registry.RemoteTagMove(remote: client.display, tag: "\(m.tag) (\(m.versionTag))", name: m.plain,
                                                    oldDigest: before, newDigest: m.digest,
                                                    oldID: before == m.currentDigest ? m.currentID : nil, newID: m.id))
                if audit.count >= auditGroup { try writeAudit() }
                guard after == m.digest else {
                    conflict = conflict ?? .conflict(name: m.plain, message: "another push moved it while this one did")
                    return
                }
                report.names.append((m.plain, m.id, true))
                config.remotes[name]?.tracking[m.plain] = m.id
            })
        } catch {
            try? writeAudit()
            throw error
        }
        try writeAudit()
        try config.save()
        if let conflict { throw conflict }
        return report
    }

    /// The manifest digest and artifact id a tag names now (both nil: no such tag; id nil: not
    /// a pvec artifact).
    static func currentArtifact(_ client: OCIClient, tag: String) throws -> (digest: String?, id: ArtifactID?) {
        guard let (digest, bytes) = try client.manifest(tag) else { return (nil, nil) }
        return artifact(digest: digest, bytes: bytes)
    }

    /// The artifact id an image manifest carries (id nil: not a pvec artifact).
    static func artifact(digest: String, bytes: [UInt8]) -> (digest: String?, id: ArtifactID?) {
        guard let m = OCIMapping.ImageManifest(parsing: bytes), m.isArtifact,
              let hex = OCIMapping.hex(ofDigest: m.config.digest) else { return (digest, nil) }
        return (digest, ArtifactID(hex))
    }

    // MARK: - Pull

    /// One artifact found on the registry.
    struct Found {
        var digest: String
        var oci: OCIMapping.ImageManifest
        var id: ArtifactID
    }

    /// Requests in flight at once in a push or pull (`PVEC_OCI_STREAMS`, 1 to
    /// `HTTPTransport.maxStreams`, default 8): a registry on loopback answers in about a
    /// millisecond, so a few streams keep both ends busy; more only crowd a small machine.
    static let streams: Int = {
        let asked = ProcessInfo.processInfo.environment["PVEC_OCI_STREAMS"].flatMap { Int($0) } ?? 8
        return min(max(asked, 1), HTTPTransport.maxStreams)
    }()

    /// The most manifests one pull walks (artifacts, evaluations and signatures).
    static let maxManifests = 1_000_000

    static func pull(_ registry: Registry, remote name: String, names: [String], force: Bool, command: String,
                     progress: RemoteSync.Progress?) throws -> Report {
        var config = try RemoteConfig.load(for: registry)
        let client = try config.ociClient(name)
        let tracking = try config.remote(name).tracking
        var report = Report()

        // Roots: the named tags (all name tags when none are given). The tag list is read once:
        // it names the roots of a clone and tells which referrers fallback tags exist.
        var wanted: [(name: String, id: ArtifactID, digest: String)] = []
        let explicit = !names.isEmpty
        let tagList = try client.tags()
        let tagSet = Set(tagList)
        let candidates = explicit ? names : tagList.compactMap(OCIMapping.name(forTag:)).sorted()
        // One GET per tag, `streams` at once (each is a round trip; a clone reads every tag).
        // The bytes are kept by digest, so the lineage walk does not fetch them again.
        let current = Locked([String: (digest: String?, id: ArtifactID?)]())
        let byDigest = Locked([String: [UInt8]]())
        try RemoteSync.parallel(candidates, width: streams) { n in
            let got = try client.manifest(try OCIMapping.tag(forName: n))
            let c = got.map { artifact(digest: $0.digest, bytes: $0.bytes) } ?? (nil, nil)
            if let got { byDigest.with { $0[got.digest] = got.bytes } }
            current.with { $0[n] = c }
        }
        for n in candidates {
            let c: (digest: String?, id: ArtifactID?) = current.with { $0[n] } ?? (nil, nil)
            guard let digest = c.digest else {
                if explicit { throw RemoteError.server(url: client.display, status: 404, message: "no name '\(n)' on the registry") }
                continue
            }
            guard let id = c.id else {
                if explicit { throw RemoteError.badAnswer(url: client.display, what: "tag \((try? OCIMapping.tag(forName: n)) ?? n) that is not a pvec artifact") }
                continue
            }
            wanted.append((n, id, digest))
        }
        let local = Dictionary(try registry.refs().map { ($0.name, $0.id) }, uniquingKeysWith: { a, _ in a })
        var refs: [(name: String, id: ArtifactID, expected: ArtifactID??)] = []
        for (n, id, _) in wanted {
            let here = local[n]
            if let here, here != id, here != tracking[n], !force {
                throw RemoteError.nameTaken(name: n, here: here.hex, incoming: id.hex)
            }
            refs.append((n, id, .some(here)))
        }
        guard !wanted.isEmpty else { return report }

        // Walk the lineage by digest (parents from annotations, evaluations and signatures
        // from referrers).
        // The walk goes a generation at a time, the manifests of one generation fetched in
        // parallel (each costs a manifest GET and a referrers lookup).
        var found: [String: Found] = [:]
        var signatureDescriptors: [(subject: String, descriptor: OCIMapping.Descriptor)] = []
        var frontier = Array(Set(wanted.map(\.digest))).sorted()
        var seen = Set(frontier)
        while !frontier.isEmpty {
            guard seen.count <= maxManifests else { throw RemoteError.badAnswer(url: client.display, what: "a lineage of more than \(maxManifests) manifests") }
            let fetched = Locked([String: (found: Found, referrers: [OCIMapping.Descriptor])]())
            try RemoteSync.parallel(frontier, width: streams) { digest in
                // Bytes read by tag hashed to `digest` when they arrived; others are fetched
                // by digest and checked against it.
                guard let bytes = try byDigest.with({ $0[digest] }) ?? client.manifest(digest)?.bytes else {
                    throw RemoteError.badAnswer(url: client.display, what: "no manifest \(digest), which a pvec artifact names as its parent")
                }
                guard let oci = OCIMapping.ImageManifest(parsing: bytes), oci.isArtifact,
                      let id = OCIMapping.hex(ofDigest: oci.config.digest).flatMap(ArtifactID.init) else {
                    throw RemoteError.badAnswer(url: client.display, what: "manifest \(digest), which is not a pvec artifact")
                }
                for p in oci.parentDigests where OCIMapping.hex(ofDigest: p) == nil {
                    throw RemoteError.badAnswer(url: client.display, what: "a parent that is not a digest in \(digest)")
                }
                let referrers = try client.referrers(of: digest, tags: tagSet)
                fetched.with { $0[digest] = (Found(digest: digest, oci: oci, id: id), referrers) }
            }
            var next: [String] = []
            for digest in frontier {
                guard let (f, referrers) = fetched.with({ $0[digest] }) else { continue }
                found[digest] = f
                for p in f.oci.parentDigests where seen.insert(p).inserted { next.append(p) }
                for r in referrers {
                    if r.artifactType == OCIMapping.signatureType {
                        signatureDescriptors.append((digest, r))
                    } else if r.artifactType == OCIMapping.artifactType, seen.insert(r.digest).inserted {
                        next.append(r.digest)
                    }
                }
            }
            frontier = next
        }
        // Parents first.
        var order: [Found] = []
        var state: [String: Bool] = [:]
        func visit(_ d: String) {
            guard state[d] == nil, let f = found[d] else { return }
            state[d] = false
            for p in f.oci.parentDigests { visit(p) }
            if let s = f.oci.subject?.digest { visit(s) }
            state[d] = true
            order.append(f)
        }
        for d in found.keys.sorted() { visit(d) }

        // Objects: each pvec manifest and blob is checked against its id and against each
        // other before its blob is stored; manifests become visible only in `receive`.
        let todo = order.filter { !registry.hasArtifact($0.id) }
        let fetched = Locked([ArtifactID: [UInt8]]())
        let counter = RemoteSync.Counter()
        // Verified blobs are written under temp names as they arrive (their disk writes overlap
        // the downloads still in flight) and wait there until every object of the pull has
        // passed its checks, so a tampered registry gets nothing stored, not even the good
        // objects before the bad one: on any failure the staged files go with `verified`.
        let verified = Locked([BlobID: StagedBlob]())
        try RemoteSync.parallel(todo, width: streams) { f in
            let bytes = try client.blob(f.oci.config.digest, size: f.oci.config.size)
            let (_, m) = try Registry.incomingManifest(bytes, as: f.id)
            var moved = bytes.count
            if let b = m.blob {
                guard let layer = f.oci.layers.first(where: { $0.digest == "sha256:" + b.hex }) else {
                    throw RemoteError.badAnswer(url: client.display, what: "manifest \(f.digest) without a layer for blob \(b.hex)")
                }
                if registry.hasBlob(b) {
                    try registry.checkManifestAgainstBlob(m, id: f.id)
                } else {
                    let raw = try client.blob(layer.digest, size: layer.size)
                    // Staging checks the blob (hash, canonical layout) before it writes it; a
                    // manifest that then disagrees drops the staged file with `staged`.
                    let staged = try registry.stageCanonicalBlob(raw, as: b)
                    try Registry.checkManifest(m, id: f.id, againstBlob: raw)
                    verified.with { $0[b] = staged }
                    moved += raw.count
                }
            }
            fetched.with { $0[f.id] = bytes }
            let (n, got) = counter.add(moved)
            progress?("pull", n, todo.count, got)
        }
        // Signatures: kept when they verify, sign the artifact they refer to, and print safely.
        var signatures: [ArtifactSignature] = []
        for (subject, d) in signatureDescriptors {
            guard let f = found[subject], let (_, bytes) = try client.manifest(d.digest),
                  let m = OCIMapping.ImageManifest(parsing: bytes), m.isSignature, m.subject?.digest == subject,
                  m.config.size <= 64 << 10 else { continue }
            guard let s = OCIMapping.signature(parsing: try client.blob(m.config.digest, size: m.config.size)),
                  s.artifact == f.id, s.isValid, (try? ArtifactSignature.validateSigner(s.signer)) != nil else { continue }
            signatures.append(s)
        }
        let manifestBytes = fetched.with { got in todo.compactMap { got[$0.id] } }
        // Blobs go in with the manifests: one group write (one fsync pass) and one transaction.
        let blobs = verified.with { $0 }.sorted { $0.key.hex < $1.key.hex }.map { IncomingBlob.staged($0.value) }
        report.blobs = blobs.count
        report.manifests = manifestBytes.count
        report.bytes = counter.bytes
        try registry.receive(IncomingBatch(manifests: manifestBytes, refs: refs, signatures: signatures, blobs: blobs),
                             source: "remote:\(name)", command: command)
        for (n, id, _) in wanted {
            report.names.append((n, id, local[n] != id))
            config.remotes[name]?.tracking[n] = id
        }
        try config.save()
        return report
    }
}

extension RemoteConfig {
    /// Clients for the other `oci://` remotes on the same host (and scheme) as `name`, in
    /// other repositories: where a push may mount blobs from instead of uploading them.
    func ociMountSources(for name: String) throws -> [OCIClient] {
        let r = try remote(name)
        guard let (host, repo) = Self.ociParts(r.url) else { return [] }
        var out: [OCIClient] = []
        for (other, o) in remotes.sorted(by: { $0.key < $1.key }) where other != name && o.isOCI && o.plainHTTP == r.plainHTTP {
            guard let (h, rp) = Self.ociParts(o.url), h == host, rp != repo, !out.contains(where: { $0.repository == rp }) else { continue }
            out.append(try OCIClient(host: h, repository: rp, plainHTTP: o.plainHTTP, credentials: OCICredentials.login(for: h)))
        }
        return out
    }
}
