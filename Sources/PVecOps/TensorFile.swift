import Foundation
import PVecStore
import PVecTensor

/// File formats pvec imports and exports.
public enum TensorFileFormat: String, Sendable, CaseIterable {
    case safetensors, npy, peft

    /// Guesses the format of a path: a directory is a PEFT adapter, `.npy` or the npy magic is
    /// numpy, anything else is read as safetensors.
    public static func detect(_ url: URL) -> TensorFileFormat {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue { return .peft }
        if url.pathExtension.lowercased() == "npy" { return .npy }
        if let h = FileHandle(forReadingAtPath: url.path) {
            defer { try? h.close() }
            if let d = try? h.read(upToCount: 6), Array(d) == [0x93] + Array("NUMPY".utf8) { return .npy }
        }
        return .safetensors
    }
}

/// A tensor read from a user's file, with what the import recipe records about its source.
public struct LoadedTensor: Sendable {
    public var tensor: Tensor
    public var format: TensorFileFormat
    /// SHA-256 of the file (safetensors, npy) or of the adapter weights file (PEFT).
    public var sourceSHA256: String
    public var key: String?
    /// The adapter config of a PEFT directory, kept so export can write it back.
    public var peftConfig: JSONValue?

    /// Reads a safetensors file, .npy file or PEFT adapter directory.
    ///
    /// - Parameters:
    ///   - key: the tensor to take from a safetensors file holding several.
    public static func read(_ url: URL, key: String?) throws -> LoadedTensor {
        let format = TensorFileFormat.detect(url)
        switch format {
        case .peft:
            let adapter = try PEFTAdapter.read(directory: url)
            let weights = try Data(contentsOf: url.appendingPathComponent(PEFTAdapter.weightsFile))
            return LoadedTensor(tensor: adapter.tensor, format: .peft, sourceSHA256: Digest.sha256Hex(weights),
                                key: PEFTAdapter.tensorKey, peftConfig: adapter.config)
        case .npy:
            let bytes = try readBytes(url)
            return LoadedTensor(tensor: try NPY.decode(bytes), format: .npy, sourceSHA256: Digest.sha256Hex(bytes),
                                key: nil, peftConfig: nil)
        case .safetensors:
            let bytes = try readBytes(url)
            let file = try SafetensorsFile(bytes: bytes)
            let t = try file.tensor(key: key)
            return LoadedTensor(tensor: t, format: .safetensors, sourceSHA256: Digest.sha256Hex(bytes),
                                key: key ?? file.keys.first, peftConfig: nil)
        }
    }

    static func readBytes(_ url: URL) throws -> [UInt8] {
        do {
            return Array(try Data(contentsOf: url))
        } catch {
            throw OpsError.unreadable(url.path, error.localizedDescription)
        }
    }
}
