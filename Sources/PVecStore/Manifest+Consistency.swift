import PVecTensor

extension Manifest {
    // MARK: - Manifest against blob

    /// Why this manifest and the blob it names disagree, or nil when they agree (also nil for
    /// a manifest without a blob).
    ///
    /// `raw` are the blob's decoded bytes, already checked against the blob id by the caller.
    /// The blob must hold a `"tensor"` entry of the manifest's dtype and shape; the blob of an
    /// init, prompt or vector holds nothing else; a module's `"tensor"` is 1-D and as long as
    /// its other tensors together (it packs them, `storeModule`).
    public func blobDisagreement(_ raw: [UInt8]) -> String? {
        guard let blob else { return nil }
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile(bytes: raw)
        } catch {
            return "its blob \(blob.short) is not safetensors (\(error.localizedDescription))"
        }
        return blobDisagreement(entries: file.entries)
    }

    /// The same check on the entries of a blob already parsed (`pvec verify` parses each
    /// blob once and checks every manifest that names it).
    public func blobDisagreement(entries: [SafetensorsEntry]) -> String? {
        guard let blob else { return nil }
        guard let main = entries.first(where: { $0.name == "tensor" }) else {
            return "its blob \(blob.short) has no \"tensor\" entry"
        }
        if let dtype, main.dtype != dtype {
            return "it says dtype \(dtype.rawValue) but its blob \(blob.short) holds \(main.dtype.rawValue)"
        }
        if let shape, main.shape != shape {
            return "it says shape \(shape) but its blob \(blob.short) holds \(main.shape)"
        }
        let others = entries.filter { $0.name != "tensor" }
        if kind.isPromptShaped, let extra = others.first {
            return "a \(kind.rawValue)'s blob holds only \"tensor\", but \(blob.short) also holds \(TerminalText.quoted(extra.name))"
        }
        if kind == .module, !others.isEmpty {
            let packed = others.reduce(0) { $0 + $1.shape.count }
            guard main.shape.rank == 1, main.shape.count == packed else {
                return "a module's \"tensor\" packs its other tensors (\(packed) numbers) but blob \(blob.short) has \"tensor\" of shape \(main.shape)"
            }
        }
        return nil
    }
}

extension Registry {
    /// Checks a manifest against the blob it names, given the blob's decoded bytes.
    ///
    /// - Throws: `StoreError.malformedManifest` naming the manifest, the blob and the difference.
    public static func checkManifest(_ manifest: Manifest, id: ArtifactID, againstBlob raw: [UInt8]) throws {
        if let why = manifest.blobDisagreement(raw) {
            throw StoreError.malformedManifest("manifest \(id.short) disagrees with its blob: \(why)")
        }
    }

    /// Checks a manifest (stored here or not) against its blob as stored here: present,
    /// hashing to its id, canonical, and holding the dtype and shape the manifest says.
    ///
    /// - Throws: `StoreError.missingObject`, `.corruptObject` (the blob), `.hashMismatch` (not
    ///   canonical), `.malformedManifest` (they disagree).
    public func checkManifestAgainstBlob(_ manifest: Manifest, id: ArtifactID) throws {
        guard let blob = manifest.blob else { return }
        let raw = try canonicalBlobBytes(blob)
        try Self.checkCanonicalBlob(raw, as: blob)
        try Self.checkManifest(manifest, id: id, againstBlob: raw)
    }

    /// Checks the stored manifest `id` against its stored blob; see
    /// `checkManifestAgainstBlob(_:id:)`. Every manifest is checked on its own, also when
    /// several share one blob.
    public func checkManifestAgainstBlob(_ id: ArtifactID) throws {
        try checkManifestAgainstBlob(manifest(id), id: id)
    }
}
