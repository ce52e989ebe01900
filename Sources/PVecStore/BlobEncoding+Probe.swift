/// Blob-object sizes for benchmarks and tooling, which cannot reach the internal encoder.
///
/// The store always keeps the smaller of the plain and the byte-shuffled encoding
/// (`putBlob`); this tells what each alone would take for some canonical bytes.
///
/// ```swift
/// let raw = Safetensors.canonical(prompt)
/// BlobEncodingProbe.encodedSize(raw, shuffle: false)   // PVB1 header + zlib of raw
/// ```
public enum BlobEncodingProbe {
    /// Bytes of the stored object for canonical safetensors bytes, shuffled or not.
    public static func encodedSize(_ canonical: [UInt8], shuffle: Bool) -> Int {
        BlobEncoding.encode(canonical, shuffle: shuffle).count
    }
}
