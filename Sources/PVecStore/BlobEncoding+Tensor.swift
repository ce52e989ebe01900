import Crypto
import PVecTensor

extension BlobEncoding {
    /// Decodes an object holding pvec's canonical single-tensor layout straight into the
    /// tensor, and hashes the canonical bytes on the way (once); nil when the canonical bytes
    /// have another layout (several tensors: the caller parses them in full).
    ///
    /// - Stored: the header and data are hashed where they lie; the data is copied once.
    /// - Compressed, shuffled: inflated into one scratch buffer, un-shuffled into the scalars.
    /// - Compressed, plain: inflated into one scratch buffer, copied into the scalars.
    /// - Returns: the tensor and the SHA-256 (hex) of the canonical bytes, for the caller to
    ///   compare with the id.
    static func singleTensor(_ encoded: [UInt8]) throws(BlobDecodingError) -> (Tensor, String)? {
        let decoded: Result<(Tensor, String)?, BlobDecodingError> = encoded.withUnsafeBytes { all in
            Result { () throws(BlobDecodingError) -> (Tensor, String)? in try singleTensor(all) }
        }
        return try decoded.get()
    }

    static func singleTensor(_ all: UnsafeRawBufferPointer) throws(BlobDecodingError) -> (Tensor, String)? {
        do {
            let h = try header(all, total: all.count)
            if h.isStored {
                let canonical = UnsafeRawBufferPointer(rebasing: all[headerSize...])
                guard let layout = CanonicalTensorLayout.parse(canonical, total: canonical.count) else { return nil }
                let digest = Digest.hex(SHA256.hash(data: canonical))
                return (tensor(layout, data: UnsafeRawBufferPointer(rebasing: canonical[layout.dataStart...]), shuffled: false), digest)
            }
            var failure: BlobDecodingError?
            var result: (Tensor, String)?
            // One buffer for the inflated bytes; uninitialised, so only what inflate writes is touched.
            _ = [UInt8](unsafeUninitializedCapacity: h.length) { buf, count in
                count = 0
                let raw = UnsafeMutableRawBufferPointer(buf)
                do throws(BlobDecodingError) {
                    try inflate(UnsafeRawBufferPointer(rebasing: all[headerSize...]), into: raw)
                } catch {
                    failure = error
                    return
                }
                let canonical = UnsafeRawBufferPointer(raw)
                guard let layout = CanonicalTensorLayout.parse(canonical, total: canonical.count) else { return }
                let data = UnsafeRawBufferPointer(rebasing: canonical[layout.dataStart...])
                let t = tensor(layout, data: data, shuffled: h.isShuffled)
                // The scalars in memory are the canonical little-endian bytes (pvec runs on
                // little-endian machines; elsewhere the hash would differ and the blob be refused).
                var hasher = SHA256()
                hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: canonical[..<layout.dataStart]))
                t.scalars.withUnsafeBytes { hasher.update(bufferPointer: $0) }
                result = (t, Digest.hex(hasher.finalize()))
            }
            if let failure { throw failure }
            // nil: not the single-tensor layout; the general path reads it (and reports a bad one).
            return result
        }
    }

    /// The scalars of `layout` from its F32 little-endian data section (byte planes when
    /// `shuffled`), written once into the tensor's storage.
    static func tensor(_ layout: CanonicalTensorLayout, data: UnsafeRawBufferPointer, shuffled: Bool) -> Tensor {
        let count = layout.shape.count
        let scalars = [Float](unsafeUninitializedCapacity: count) { buf, n in
            if let base = buf.baseAddress { writeScalars(count, data: data, shuffled: shuffled, into: base) }
            n = count
        }
        return Tensor(shape: layout.shape, scalars: scalars)
    }

    /// `count` scalars from an F32 little-endian data section (byte planes when `shuffled`),
    /// written once into `dest`.
    static func writeScalars(_ count: Int, data: UnsafeRawBufferPointer, shuffled: Bool, into dest: UnsafeMutablePointer<Float>) {
        if shuffled {
            let src = data.assumingMemoryBound(to: UInt8.self)
            for i in 0..<count {
                let bits = UInt32(src[i]) | UInt32(src[count + i]) << 8
                    | UInt32(src[2 * count + i]) << 16 | UInt32(src[3 * count + i]) << 24
                dest[i] = Float(bitPattern: bits)
            }
        } else if count > 0, let from = data.baseAddress {
            UnsafeMutableRawPointer(dest).copyMemory(from: from, byteCount: 4 * count)
            #if _endian(big)
            for i in 0..<count { dest[i] = Float(bitPattern: UInt32(littleEndian: dest[i].bitPattern)) }
            #endif
        }
    }

    /// Like `singleTensor`, for callers that stack many tensors: the scalars go straight into
    /// `dest` (room for `count`), with no tensor of their own.
    /// - Returns: the SHA-256 (hex) of the canonical bytes; nil when the blob is not one F32
    ///   tensor of exactly `count` scalars (nothing usable was written then).
    static func singleTensor(_ all: UnsafeRawBufferPointer, count: Int, into dest: UnsafeMutablePointer<Float>) throws(BlobDecodingError) -> String? {
        let h = try header(all, total: all.count)
        if h.isStored {
            let canonical = UnsafeRawBufferPointer(rebasing: all[headerSize...])
            guard let layout = CanonicalTensorLayout.parse(canonical, total: canonical.count), layout.shape.count == count else { return nil }
            writeScalars(count, data: UnsafeRawBufferPointer(rebasing: canonical[layout.dataStart...]), shuffled: false, into: dest)
            return Digest.hex(SHA256.hash(data: canonical))
        }
        guard let (tensor, digest) = try singleTensor(all), tensor.count == count else { return nil }
        tensor.scalars.withUnsafeBufferPointer { if let b = $0.baseAddress { dest.update(from: b, count: count) } }
        return digest
    }
}
