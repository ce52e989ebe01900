import Foundation
import PVecStore
import PVecTensor

/// File formats pvec imports and exports.
public enum TensorFileFormat: String, Sendable, CaseIterable {
    /// A safetensors file, a NumPy .npy file, or a PEFT prompt-tuning adapter directory.
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
    /// The tensor as read, before `importTensor` reshapes or checks it.
    public var tensor: Tensor
    /// The format it was read as (see `TensorFileFormat.detect`).
    public var format: TensorFileFormat
    /// SHA-256 of the file (safetensors, npy) or of the adapter weights file (PEFT).
    public var sourceSHA256: String
    /// Its key in the file (as asked, or the only one); `PEFTAdapter.tensorKey`; nil for npy.
    public var key: String?
    /// The adapter config of a PEFT directory, kept so export can write it back.
    public var peftConfig: JSONValue?
    /// The element type the tensor was saved in (it is read as F32).
    public var dtype: DType = .f32
    /// A PEFT adapter's other tensors (`modules_to_save`: a classifier head), by key.
    public var extras: [String: PEFTAdapter.Extra] = [:]

    /// Reads a safetensors file, .npy file or PEFT adapter directory.
    ///
    /// - Parameters:
    ///   - key: the tensor to take from a safetensors file holding several.
    ///   - format: the format to read it as; nil guesses (`TensorFileFormat.detect`).
    public static func read(_ url: URL, key: String?, format asked: TensorFileFormat? = nil) throws -> LoadedTensor {
        // Before `detect` opens it: a FIFO or device would block or never end.
        switch try FileKind.of(url) {
        case .regular, .directory: break
        case .other: throw OpsError.unreadable(url.path, "not a regular file (pvec imports files and PEFT adapter directories)")
        }
        let format = asked ?? TensorFileFormat.detect(url)
        switch format {
        case .peft:
            let adapter = try PEFTAdapter.read(directory: url)
            let weights = try readBytes(url.appendingPathComponent(PEFTAdapter.weightsFile))
            return LoadedTensor(tensor: adapter.tensor, format: .peft, sourceSHA256: Digest.sha256Hex(weights),
                                key: PEFTAdapter.tensorKey, peftConfig: adapter.config,
                                dtype: adapter.dtype, extras: adapter.extras)
        case .npy:
            let bytes = try readBytes(url)
            return LoadedTensor(tensor: try NPY.decode(bytes), format: .npy, sourceSHA256: Digest.sha256Hex(bytes),
                                key: nil, peftConfig: nil, dtype: try NPY.header(of: bytes).dtype)
        case .safetensors:
            let bytes = try readBytes(url)
            let file = try SafetensorsFile(bytes: bytes)
            let t = try file.tensor(key: key)
            let taken = key ?? file.keys.first
            return LoadedTensor(tensor: t, format: .safetensors, sourceSHA256: Digest.sha256Hex(bytes),
                                key: taken, peftConfig: nil,
                                dtype: file.entries.first { $0.name == taken }?.dtype ?? .f32)
        }
    }

    /// The whole of a regular file, checked on the open descriptor (so a path swapped for a
    /// FIFO or device after the check is still refused, without blocking).
    static func readBytes(_ url: URL) throws -> [UInt8] {
        let fd = open(url.path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw OpsError.unreadable(url.path, String(cString: strerror(errno))) }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw OpsError.unreadable(url.path, String(cString: strerror(errno))) }
        guard st.st_mode & S_IFMT == S_IFREG else {
            throw OpsError.unreadable(url.path, "not a regular file (pvec imports files and PEFT adapter directories)")
        }
        do {
            return Array(try handle.readToEnd() ?? Data())
        } catch {
            throw OpsError.unreadable(url.path, error.localizedDescription)
        }
    }
}

/// What a path names, following symbolic links.
enum FileKind {
    case regular, directory, other

    static func of(_ url: URL) throws -> FileKind {
        var st = stat()
        guard stat(url.path, &st) == 0 else {
            throw OpsError.unreadable(url.path, String(cString: strerror(errno)))
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        default: return .other
        }
    }
}
