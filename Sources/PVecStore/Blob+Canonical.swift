import PVecTensor

extension Registry {
    // MARK: - Canonical blobs

    /// Why `raw` (a blob's decoded bytes) is not pvec's canonical blob encoding, or nil when it is.
    ///
    /// Canonical means what `Safetensors.encode` writes for F32 tensors without metadata: valid
    /// safetensors, every tensor F32, no `__metadata__`, keys sorted with their data in that
    /// order, the header padded with spaces to a multiple of 8 bytes, so one set of tensors has
    /// exactly one blob id. `encode` copies F32 scalars bit for bit after its header, so the
    /// bytes are canonical exactly when they start with the header `encode` would write for
    /// these names and shapes and hold nothing after the data: that is what is compared, with
    /// no decoding or re-encoding of the tensors.
    public static func canonicalBlobProblem(_ raw: [UInt8]) -> String? {
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile(bytes: raw)
        } catch {
            return "not safetensors (\(error.localizedDescription))"
        }
        if file.metadata != nil { return "it has __metadata__, which pvec blobs never carry" }
        if file.entries.isEmpty { return "it holds no tensor" }
        if let e = file.entries.first(where: { $0.dtype != .f32 }) {
            return "tensor \(TerminalText.quoted(e.name)) is \(e.dtype.rawValue); stored tensors are F32"
        }
        if file.entries.contains(where: { $0.name == "__metadata__" }) { return "a tensor is named __metadata__" }
        // Names Swift compares equal (one composed, one decomposed) would be one key once decoded.
        guard Set(file.entries.map(\.name)).count == file.entries.count else { return "two tensors have the same name" }
        let sorted = file.entries.sorted { $0.name < $1.name }
        let (prefix, dataSize) = SafetensorsFile.header(sorted.map { ($0.name, $0.shape) })
        guard raw.count == prefix.count + dataSize, raw.starts(with: prefix) else {
            return "it is not in canonical form (keys sorted, data in key order, header padded with spaces to 8 bytes)"
        }
        return nil
    }

    /// Checks that blob bytes received from elsewhere are canonical safetensors.
    ///
    /// - Throws: `StoreError.hashMismatch` saying what is wrong (nothing is stored by the caller).
    public static func checkCanonicalBlob(_ raw: [UInt8], as id: BlobID) throws {
        if let problem = canonicalBlobProblem(raw) {
            throw StoreError.hashMismatch(id: id.hex, what: "blob", actual: "not a canonical pvec blob: \(problem)")
        }
    }
}

