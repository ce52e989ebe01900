/// Blob-object sizes for benchmarks and tooling, which cannot reach the internal encoder.
///
/// `putBlob` writes `storedSize`'s encoding: the canonical bytes uncompressed, or (where that
/// removes at least a quarter of them) `fastCompressedSize`'s byte-shuffled RLE or level-1
/// deflate, see `encodeForStore`; `encodedSize` tells what plain or shuffled deflate at
/// level 6 alone would take.
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
        BlobEncoding.encodeForStore(canonical).count
    }

    /// Bytes of the store's compressed encoding (shuffled, RLE or level 1), kept or not.
    public static func fastCompressedSize(_ canonical: [UInt8]) -> Int {
        BlobEncoding.encodeFast(canonical).count
    }

    /// Whether `putBlob` keeps these bytes compressed.
    public static func keepsCompressed(_ canonical: [UInt8]) -> Bool {
        BlobEncoding.isStored(BlobEncoding.encodeForStore(canonical)) == false
    }
}
