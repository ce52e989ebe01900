/// Blob-object sizes for benchmarks and tooling, which cannot reach the internal encoder.
///
/// `putBlob` writes `storedSize`'s encoding (byte-shuffled, RLE or level-1 deflate,
/// see `encodeFast`); `encodedSize` tells what plain or shuffled deflate at level 6 alone would take.
///
/// ```swift
/// let raw = Safetensors.canonical(prompt)
/// BlobEncodingProbe.encodedSize(raw, shuffle: false)   // PVB1 header + zlib of raw
/// BlobEncodingProbe.storedSize(raw)                    // what putBlob writes
/// ```
public enum BlobEncodingProbe {
    /// Bytes of the object for canonical safetensors bytes, deflated at level 6, shuffled or not.
    public static func encodedSize(_ canonical: [UInt8], shuffle: Bool) -> Int {
        BlobEncoding.encode(canonical, shuffle: shuffle).count
    }

    /// Bytes of the object `putBlob` writes for canonical safetensors bytes.
    public static func storedSize(_ canonical: [UInt8]) -> Int {
        BlobEncoding.encodeFast(canonical).count
    }
}
