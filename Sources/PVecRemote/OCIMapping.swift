import Foundation
import PVecStore
import PVecTensor

/// How pvec objects look in an OCI registry (registry-schema/oci.md in code): media types,
/// the image manifest of an artifact or a signature, and names as tags.
public enum OCIMapping {
    // MARK: - Media types

    public static let imageManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let imageIndex = "application/vnd.oci.image.index.v1+json"
    public static let emptyType = "application/vnd.oci.empty.v1+json"
    public static let artifactType = "application/vnd.pvec.artifact.v1+json"
    public static let manifestType = "application/vnd.pvec.manifest.v1+json"
    public static let tensorType = "application/vnd.pvec.tensor.v1+safetensors"
    public static let signatureType = "application/vnd.pvec.signature.v1+json"

    /// The empty JSON object `{}` and its digest, the image spec's placeholder descriptor.
    public static let emptyBytes: [UInt8] = Array("{}".utf8)
    public static let emptyDigest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

    /// The largest image manifest or index pvec reads (the distribution spec's 4 MiB).
    public static let maxManifestBytes = 4 << 20

    // MARK: - Descriptors

    /// A content descriptor: media type, digest, size (and optional fields).
    public struct Descriptor: Hashable, Sendable {
        public var mediaType: String
        public var digest: String
        public var size: Int
        public var artifactType: String?
        public var annotations: [String: String] = [:]

        public init(mediaType: String, digest: String, size: Int, artifactType: String? = nil, annotations: [String: String] = [:]) {
            self.mediaType = mediaType
            self.digest = digest
            self.size = size
            self.artifactType = artifactType
            self.annotations = annotations
        }

        public static func of(_ bytes: [UInt8], type: String) -> Descriptor {
            Descriptor(mediaType: type, digest: "sha256:" + Digest.sha256Hex(bytes), size: bytes.count)
        }

        static let empty = Descriptor(mediaType: emptyType, digest: emptyDigest, size: 2)

        var json: JSONValue {
            var o: [String: JSONValue] = ["mediaType": .string(mediaType), "digest": .string(digest), "size": .int(Int64(size))]
            if let artifactType { o["artifactType"] = .string(artifactType) }
            if !annotations.isEmpty { o["annotations"] = .object(annotations.mapValues { .string($0) }) }
            return .object(o)
        }

        /// Reads a descriptor from untrusted JSON: a sha256 digest of 64 lowercase hex digits
        /// and a size that is a non-negative integer.
        init?(json v: JSONValue?) {
            guard let v, let type = v["mediaType"]?.stringValue, let digest = v["digest"]?.stringValue,
                  OCIMapping.hex(ofDigest: digest) != nil, let size = v["size"]?.intValue, size >= 0, size <= Int64(Int32.max) else { return nil }
            self.mediaType = type
            self.digest = digest
            self.size = Int(size)
            self.artifactType = v["artifactType"]?.stringValue
            for (k, a) in v["annotations"]?.objectValue ?? [:] { if let s = a.stringValue { annotations[k] = s } }
        }
    }

    /// The 64 hex digits of a `sha256:<hex>` digest, nil for anything else.
    public static func hex(ofDigest digest: String) -> String? {
        guard digest.hasPrefix("sha256:") else { return nil }
        let h = String(digest.dropFirst(7))
        return h.utf8.count == 64 && h.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) ? h : nil
    }

    // MARK: - Manifests

    /// An image manifest as pvec writes it: canonical JSON, so the same content always gives the
    /// same digest.
    public struct ImageManifest: Sendable {
        public var artifactType: String?
        public var config: Descriptor
        public var layers: [Descriptor]
        public var subject: Descriptor?
        public var annotations: [String: String]

        public var bytes: [UInt8] {
            var o: [String: JSONValue] = ["schemaVersion": 2, "mediaType": .string(imageManifest),
                                          "config": config.json, "layers": .array(layers.map(\.json))]
            if let artifactType { o["artifactType"] = .string(artifactType) }
            if let subject { o["subject"] = subject.json }
            if !annotations.isEmpty { o["annotations"] = .object(annotations.mapValues { .string($0) }) }
            return JSONValue.object(o).canonicalBytes
        }

        /// Parses an image manifest from a registry (untrusted): nil when it is not one.
        public init?(parsing bytes: [UInt8]) {
            guard bytes.count <= maxManifestBytes, let v = try? JSONValue.parse(bytes), v["schemaVersion"]?.intValue == 2,
                  (v["mediaType"]?.stringValue ?? imageManifest) == imageManifest,
                  let config = Descriptor(json: v["config"]), let layers = v["layers"]?.arrayValue else { return nil }
            var ls: [Descriptor] = []
            for l in layers {
                guard let d = Descriptor(json: l) else { return nil }
                ls.append(d)
            }
            self.artifactType = v["artifactType"]?.stringValue
            self.config = config
            self.layers = ls
            self.subject = v["subject"].flatMap { Descriptor(json: $0) }
            var a: [String: String] = [:]
            for (k, s) in v["annotations"]?.objectValue ?? [:] { if let s = s.stringValue { a[k] = s } }
            self.annotations = a
        }

        init(artifactType: String?, config: Descriptor, layers: [Descriptor], subject: Descriptor?, annotations: [String: String]) {
            self.artifactType = artifactType
            self.config = config
            self.layers = layers
            self.subject = subject
            self.annotations = annotations
        }

        /// True when this is a pvec artifact (by `artifactType`, or by config type for
        /// registries and tools that drop `artifactType`).
        public var isArtifact: Bool { config.mediaType == manifestType }
        public var isSignature: Bool { config.mediaType == signatureType }

        /// The parents' manifest digests, from `dev.pvec.parents`.
        public var parentDigests: [String] {
            guard let p = annotations["dev.pvec.parents"], !p.isEmpty else { return [] }
            return p.split(separator: ",").map(String.init)
        }
    }

    /// The image manifest of an artifact: the canonical pvec manifest as config, the raw
    /// canonical blob as the one layer (the empty descriptor when it has none), and its parents'
    /// manifest digests in `dev.pvec.parents`.
    public static func artifactManifest(id: ArtifactID, manifestBytes: [UInt8], kind: String, blob: (id: BlobID, size: Int)?,
                                        parentDigests: [String]) -> ImageManifest {
        let config = Descriptor(mediaType: manifestType, digest: "sha256:" + id.hex, size: manifestBytes.count)
        let layer = blob.map {
            Descriptor(mediaType: tensorType, digest: "sha256:" + $0.id.hex, size: $0.size,
                       annotations: ["org.opencontainers.image.title": $0.id.hex + ".safetensors"])
        } ?? .empty
        var a = ["dev.pvec.artifact": id.hex, "dev.pvec.kind": kind]
        if !parentDigests.isEmpty { a["dev.pvec.parents"] = parentDigests.joined(separator: ",") }
        return ImageManifest(artifactType: artifactType, config: config, layers: [layer], subject: nil, annotations: a)
    }

    /// The canonical JSON of a signature, the config of its signature manifest.
    public static func signatureBytes(_ s: ArtifactSignature) -> [UInt8] {
        PromptBundle.signatureJSON(s).canonicalBytes
    }

    /// Reads a signature's JSON (untrusted); nil when it is not one.
    public static func signature(parsing bytes: [UInt8]) -> ArtifactSignature? {
        guard bytes.count <= 64 << 10, let v = try? JSONValue.parse(bytes),
              let a = v["artifact"]?.stringValue.flatMap(ArtifactID.init), let k = v["key"]?.stringValue,
              let sig = v["signature"]?.stringValue else { return nil }
        return ArtifactSignature(artifact: a, key: k, signature: sig, signer: v["signer"]?.stringValue)
    }

    /// A signature manifest: the signature JSON as config, referring to `subject`.
    public static func signatureManifest(_ s: ArtifactSignature, subject: Descriptor) -> (manifest: ImageManifest, config: [UInt8]) {
        let bytes = signatureBytes(s)
        let m = ImageManifest(artifactType: signatureType, config: .of(bytes, type: signatureType), layers: [.empty],
                              subject: subject, annotations: ["dev.pvec.signed": s.artifact.hex])
        return (m, bytes)
    }

    /// An image index listing `manifests` (the referrers fallback).
    public static func index(_ manifests: [Descriptor]) -> [UInt8] {
        JSONValue.object(["schemaVersion": 2, "mediaType": .string(imageIndex),
                          "manifests": .array(manifests.map(\.json))]).canonicalBytes
    }

    /// The descriptors of an image index (untrusted); nil when it is not one.
    public static func indexEntries(_ bytes: [UInt8]) -> [Descriptor]? {
        guard bytes.count <= maxManifestBytes, let v = try? JSONValue.parse(bytes), let list = v["manifests"]?.arrayValue else { return nil }
        return list.compactMap { Descriptor(json: $0) }
    }

    // MARK: - Tags

    /// The longest tag the distribution spec allows.
    public static let maxTagLength = 128

    /// The tag of a name: `/` is written `..` (names hold no `..` and no `/.`, so it reads back).
    ///
    /// - Throws: `RemoteError.untaggable` when the tag would be too long or is reserved.
    public static func tag(forName name: String) throws -> String {
        try RefName.validate(name)
        if name.hasPrefix("sha256-") {
            throw RemoteError.untaggable(name: name, why: "tags starting 'sha256-' hold signatures on OCI registries")
        }
        let t = name.replacingOccurrences(of: "/", with: "..")
        guard versionTag(t, 1_000_000).utf8.count <= maxTagLength else {
            throw RemoteError.untaggable(name: name, why: "its tag (with '/' written '..' and a version prefix) would be longer than \(maxTagLength) bytes")
        }
        return t
    }

    /// The name a tag stands for, nil for tags that are not names (versions, ids, signatures,
    /// or tags of other tools that do not decode to a valid name).
    public static func name(forTag tag: String) -> String? {
        guard let first = tag.unicodeScalars.first, first != "_", !tag.hasPrefix("sha256-") else { return nil }
        var out = ""
        var dots = 0
        func flush() -> Bool {
            switch dots {
            case 0: break
            case 1: out += "."
            case 2: out += "/"
            case 3: out += "./"
            default: return false
            }
            dots = 0
            return true
        }
        for c in tag {
            if c == "." { dots += 1; continue }
            guard flush() else { return nil }
            out.append(c)
        }
        guard flush(), (try? RefName.validate(out)) != nil else { return nil }
        return out
    }

    /// The immutable tag of version `n` of the name whose tag is `nameTag`.
    public static func versionTag(_ nameTag: String, _ n: Int) -> String { "_v\(n).\(nameTag)" }

    /// The version number in `tag` if it is a version tag of `nameTag`.
    public static func version(ofTag tag: String, nameTag: String) -> Int? {
        guard tag.hasPrefix("_v"), tag.hasSuffix("." + nameTag) else { return nil }
        let digits = tag.dropFirst(2).dropLast(nameTag.count + 1)
        guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy(\.isASCIIDigit) else { return nil }
        return Int(digits)
    }

    /// The tag every pushed artifact gets, so that registries that collect untagged manifests
    /// keep parents and evaluations.
    public static func idTag(_ id: ArtifactID) -> String { "_id.\(id.hex)" }

    /// The referrers fallback tag of a manifest digest.
    public static func referrersTag(_ digest: String) -> String { digest.replacingOccurrences(of: ":", with: "-") }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
