import Foundation
import PVecTensor

/// Hugging Face PEFT prompt-tuning adapters: a directory with `adapter_config.json` and
/// `adapter_model.safetensors`.
///
/// The weights file holds one tensor, `prompt_embeddings`, of shape
/// `[num_virtual_tokens * num_transformer_submodules, token_dim]` (PEFT's
/// `get_peft_model_state_dict` for prompt learning), and PEFT's `save_pretrained` writes it
/// with the metadata `{"format": "pt"}`. The config is PEFT's `PromptTuningConfig` as JSON.
///
/// ```swift
/// let adapter = try PEFTAdapter.read(directory: url)          // tensor [20, 384] + config
/// try PEFTAdapter.write(tensor: t, config: adapter.config, baseModel: nil, to: out)
/// ```
public enum PEFTAdapter {
    /// The config file's name inside an adapter directory.
    public static let configFile = "adapter_config.json"
    /// The weights file's name; only safetensors weights are read (not `adapter_model.bin`).
    public static let weightsFile = "adapter_model.safetensors"
    /// The key of the one tensor in the weights file.
    public static let tensorKey = "prompt_embeddings"
    /// The only `peft_type` pvec reads or writes.
    public static let peftType = "PROMPT_TUNING"

    /// A tensor of an adapter's weights file besides `prompt_embeddings` (a `SEQ_CLS`
    /// adapter's classifier head, any `modules_to_save` module), with the element type it was
    /// saved in, so an export writes it back bit for bit.
    public struct Extra: Sendable, Equatable {
        /// The tensor, widened to Float32 (exact for F16 and BF16).
        public var tensor: Tensor
        /// The element type in the weights file: F16, BF16, F32 or F64.
        public var dtype: DType

        /// A tensor written as `dtype`.
        public init(tensor: Tensor, dtype: DType) {
            self.tensor = tensor
            self.dtype = dtype
        }
    }

    /// A read adapter: the prompt and the config exactly as it came in.
    public struct Contents: Sendable, Equatable {
        /// `[num_virtual_tokens * num_transformer_submodules, token_dim]`.
        public var tensor: Tensor
        /// The config as read, unknown fields included, so an export can keep them.
        public var config: JSONValue
        /// The element type `prompt_embeddings` was saved in.
        public var dtype: DType
        /// Every other tensor of the weights file, by key.
        public var extras: [String: Extra]
    }

    /// Element types pvec reads from an adapter: the floating-point ones it can widen to F32.
    public static let readableDTypes: Set<DType> = [.f16, .bf16, .f32, .f64]

    // MARK: - Reading

    /// Reads and cross-checks an adapter directory.
    ///
    /// - Throws: `StoreError.invalidAdapter` naming the file and the problem: a missing file,
    ///   another `peft_type`, a missing `prompt_embeddings` tensor, or a shape that does not
    ///   match `num_virtual_tokens`, `num_transformer_submodules` and `token_dim`.
    public static func read(directory: URL) throws -> Contents {
        let configURL = directory.appendingPathComponent(configFile)
        let weightsURL = directory.appendingPathComponent(weightsFile)
        func bad(_ url: URL, _ why: String) -> StoreError { .invalidAdapter(path: url.path, reason: why) }
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw bad(directory, "no \(configFile) in the directory (is it a PEFT adapter saved with save_pretrained?)")
        }
        let config = try parseConfig(try readRegularFile(configURL, limit: maxConfigBytes), configURL)
        guard let tokens = try positiveInt(config, "num_virtual_tokens", required: true, configURL) else {
            throw bad(configURL, "num_virtual_tokens is missing")
        }
        let submodules = try positiveInt(config, "num_transformer_submodules", required: false, configURL)
            ?? (config["task_type"]?.stringValue == "SEQ_2_SEQ_LM" ? 2 : 1)
        let width = try positiveInt(config, "token_dim", required: false, configURL)

        guard FileManager.default.fileExists(atPath: weightsURL.path) else {
            let bin = directory.appendingPathComponent("adapter_model.bin")
            if FileManager.default.fileExists(atPath: bin.path) {
                throw bad(bin, "pvec reads safetensors weights only; re-save with save_pretrained(..., safe_serialization=True)")
            }
            throw bad(weightsURL, "missing")
        }
        let tensor: Tensor
        var dtype = DType.f32
        var extras: [String: Extra] = [:]
        do {
            let file = try SafetensorsFile(bytes: try readRegularFile(weightsURL, limit: nil))
            tensor = try file.tensor(tensorKey)
            for e in file.entries {
                guard readableDTypes.contains(e.dtype) else {
                    throw bad(weightsURL, "tensor \(TerminalText.quoted(e.name)) is \(e.dtype.rawValue); pvec keeps an adapter's F16, BF16, F32 and F64 tensors only")
                }
                if e.name == tensorKey { dtype = e.dtype; continue }
                extras[e.name] = Extra(tensor: try file.tensor(e.name), dtype: e.dtype)
            }
        } catch let e as TensorError {
            throw bad(weightsURL, e.localizedDescription)
        }
        guard tensor.shape.rank == 2 else {
            throw bad(weightsURL, "\(tensorKey) has shape \(tensor.shape), expected 2-D [tokens, width]")
        }
        let rows = tokens * submodules
        guard tensor.shape.rows == rows else {
            throw bad(weightsURL, "\(tensorKey) has \(tensor.shape.rows) rows, but the config says num_virtual_tokens \(tokens) × num_transformer_submodules \(submodules) = \(rows)")
        }
        if let width, tensor.shape.width != width {
            throw bad(weightsURL, "\(tensorKey) has width \(tensor.shape.width), but the config says token_dim \(width)")
        }
        return Contents(tensor: tensor, config: config, dtype: dtype, extras: extras)
    }

    /// The largest `adapter_config.json` read (PEFT writes about 1 KB).
    public static let maxConfigBytes = 1 << 20

    /// Reads an adapter config on its own (`--peft-config FILE`): a JSON object whose
    /// `peft_type` is PROMPT_TUNING, holding printable text only.
    ///
    /// - Throws: `StoreError.invalidAdapter` naming the file and the problem.
    public static func readConfig(_ url: URL) throws -> [String: JSONValue] {
        let config = try parseConfig(try readRegularFile(url, limit: maxConfigBytes), url)
        _ = try positiveInt(config, "num_virtual_tokens", required: false, url)
        _ = try positiveInt(config, "num_transformer_submodules", required: false, url)
        _ = try positiveInt(config, "token_dim", required: false, url)
        if let field = TerminalText.firstUnsafeString(in: config) {
            throw StoreError.invalidAdapter(path: url.path, reason: "config field \(field) holds control characters; pvec keeps only printable text")
        }
        return config.objectValue ?? [:]
    }

    /// Checks that a config describes a prompt of `rows` × `width`: `num_virtual_tokens` ×
    /// `num_transformer_submodules` rows (when it says) and `token_dim` columns (when it says).
    ///
    /// - Throws: `StoreError.invalidAdapter` naming `what` and the field that does not fit.
    public static func checkFits(_ config: [String: JSONValue], rows: Int, width: Int, what: String) throws {
        let c = JSONValue.object(config), url = URL(fileURLWithPath: what)
        let submodules = try positiveInt(c, "num_transformer_submodules", required: false, url)
            ?? (config["task_type"]?.stringValue == "SEQ_2_SEQ_LM" ? 2 : 1)
        if let tokens = try positiveInt(c, "num_virtual_tokens", required: false, url), tokens * submodules != rows {
            throw StoreError.invalidAdapter(path: what, reason: "num_virtual_tokens \(tokens) × num_transformer_submodules \(submodules) is not the prompt's \(rows) rows")
        }
        if let w = try positiveInt(c, "token_dim", required: false, url), w != width {
            throw StoreError.invalidAdapter(path: what, reason: "token_dim \(w) is not the prompt's width \(width)")
        }
    }

    /// A config's JSON: an object whose `peft_type` is PROMPT_TUNING.
    static func parseConfig(_ bytes: [UInt8], _ url: URL) throws -> JSONValue {
        func bad(_ why: String) -> StoreError { .invalidAdapter(path: url.path, reason: why) }
        let config: JSONValue
        do {
            config = try JSONValue.parse(bytes)
        } catch {
            throw bad("\(error)")
        }
        guard config.objectValue != nil else { throw bad("the config is not a JSON object") }
        guard config["peft_type"]?.stringValue == peftType else {
            throw bad("peft_type is \(config["peft_type"].map { String($0.canonicalString.prefix(40)) } ?? "missing"), pvec reads \(peftType) adapters only")
        }
        return config
    }

    /// A regular file's bytes (following links); a FIFO, device or oversized config is refused
    /// without blocking or reading it whole.
    static func readRegularFile(_ url: URL, limit: Int?) throws -> [UInt8] {
        func bad(_ why: String) -> StoreError { .invalidAdapter(path: url.path, reason: why) }
        let fd = open(url.path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw bad("cannot be read (\(String(cString: strerror(errno))))") }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { throw bad("not a regular file") }
        if let limit, st.st_size > limit { throw bad("\(st.st_size) bytes is more than the \(limit) pvec reads") }
        do {
            let data = try (limit.map { try handle.read(upToCount: $0 + 1) } ?? handle.readToEnd()) ?? Data()
            if let limit, data.count > limit { throw bad("more than the \(limit) bytes pvec reads") }
            return Array(data)
        } catch let e as StoreError {
            throw e
        } catch {
            throw bad("cannot be read (\(error.localizedDescription))")
        }
    }

    private static func positiveInt(_ config: JSONValue, _ key: String, required: Bool, _ url: URL) throws -> Int? {
        guard let v = config[key], v != .null else {
            if required { throw StoreError.invalidAdapter(path: url.path, reason: "\(key) is missing") }
            return nil
        }
        guard let i = v.intValue, i > 0, i <= Int64(Int32.max) else {
            throw StoreError.invalidAdapter(path: url.path, reason: "\(key) must be a positive integer, found \(v.canonicalString.prefix(40))")
        }
        return Int(i)
    }

    // MARK: - Writing

    /// The config PEFT writes for a prompt-tuning adapter with these dimensions; values PEFT
    /// fills in from the base model at load time (layers, heads) are left null.
    public static func defaultConfig(rows: Int, width: Int, baseModel: String?) -> JSONValue {
        [
            "peft_type": .string(peftType),
            "task_type": "FEATURE_EXTRACTION",
            "base_model_name_or_path": baseModel.map { .string($0) } ?? .null,
            "revision": .null,
            "inference_mode": true,
            "auto_mapping": .null,
            "num_virtual_tokens": .int(Int64(rows)),
            "token_dim": .int(Int64(width)),
            "num_transformer_submodules": 1,
            "num_attention_heads": .null,
            "num_layers": .null,
            "prompt_tuning_init": "RANDOM",
            "prompt_tuning_init_text": .null,
            "tokenizer_name_or_path": .null,
            "tokenizer_kwargs": .null,
        ]
    }

    /// Writes an adapter directory PEFT loads (`PeftModel.from_pretrained`), in the bytes
    /// `save_pretrained` writes: the weights as safetensors with `{"format": "pt"}`, tensors laid
    /// out as the safetensors library does (by element type, widest first, then by key), and
    /// the config as `json.dumps(config, indent=2, sort_keys=True)`.
    ///
    /// The config keeps every field of `config` (when given) and sets the dimensions from the
    /// tensor: `num_virtual_tokens = rows / num_transformer_submodules`, `token_dim = width`.
    /// Files are written to temp names and renamed, so a failed export leaves no half adapter.
    /// - Parameters:
    ///   - dtype: the element type of `prompt_embeddings` (F32, F16, BF16 or F64).
    ///   - extras: other tensors to write beside it (a classifier head), each in its own type.
    ///   - baseModel: `base_model_name_or_path`; nil keeps the config's, or writes null.
    ///   - metadata: more entries for the weights' metadata beside `format` (none by default,
    ///     which keeps the bytes PEFT writes).
    /// - Throws: `StoreError.invalidAdapter` when the tensor does not fit the config.
    public static func write(tensor: Tensor, dtype: DType = .f32, extras: [String: Extra] = [:],
                             config: JSONValue?, baseModel: String?, metadata: [String: String] = [:],
                             to directory: URL) throws {
        guard tensor.shape.rank == 2, tensor.count > 0 else {
            throw StoreError.invalidAdapter(path: directory.path, reason: "a prompt must be 2-D [tokens, width], got \(tensor.shape)")
        }
        let writable: Set<DType> = [.f16, .bf16, .f32, .f64]
        guard writable.contains(dtype), extras.values.allSatisfy({ writable.contains($0.dtype) }) else {
            throw StoreError.invalidAdapter(path: directory.path, reason: "adapters are written as F32, F16, BF16 or F64")
        }
        guard extras[tensorKey] == nil, extras["__metadata__"] == nil else {
            throw StoreError.invalidAdapter(path: directory.path, reason: "an extra tensor may not be named \(tensorKey) or __metadata__")
        }
        let rows = tensor.shape.rows, width = tensor.shape.width
        var fields = config?.objectValue ?? defaultConfig(rows: rows, width: width, baseModel: baseModel).objectValue ?? [:]
        let configURL = directory.appendingPathComponent(configFile)
        if let t = fields["peft_type"]?.stringValue, t != peftType {
            throw StoreError.invalidAdapter(path: configURL.path, reason: "the config is for a \(t) adapter, not \(peftType)")
        }
        fields["peft_type"] = .string(peftType)
        let submodules = try positiveInt(.object(fields), "num_transformer_submodules", required: false, configURL) ?? 1
        guard rows % submodules == 0 else {
            throw StoreError.invalidAdapter(path: configURL.path,
                                            reason: "\(rows) rows do not split into num_transformer_submodules \(submodules)")
        }
        fields["num_transformer_submodules"] = .int(Int64(submodules))
        fields["num_virtual_tokens"] = .int(Int64(rows / submodules))
        fields["token_dim"] = .int(Int64(width))
        if let baseModel {
            fields["base_model_name_or_path"] = .string(baseModel)
        } else if fields["base_model_name_or_path"] == nil {
            fields["base_model_name_or_path"] = .null
        }
        var all = extras
        all[tensorKey] = Extra(tensor: tensor, dtype: dtype)
        let weights = encodeWeights(all, metadata: metadata.merging(["format": "pt"]) { _, pt in pt })
        try FileIO.makeDirectory(directory, syncParent: false)
        try FileIO.replace(directory.appendingPathComponent(weightsFile), with: weights)
        try FileIO.replace(configURL, with: PEFTConfigText.dumps(.object(fields)))
    }

    /// Safetensors bytes laid out as the safetensors library writes them: tensors ordered by
    /// element type (widest first: F64, F32, BF16, F16) and then by key, the header listing
    /// `__metadata__` first and the tensors in data order, padded with spaces to 8 bytes.
    static func encodeWeights(_ tensors: [String: Extra], metadata: [String: String]) -> [UInt8] {
        // The library's dtype enum order (F16 < BF16 < F32 < F64); it sorts descending.
        func rank(_ d: DType) -> Int { [DType.f16: 0, .bf16: 1, .f32: 2, .f64: 3][d] ?? 0 }
        let names = tensors.keys.sorted { a, b in
            let ra = rank(tensors[a]?.dtype ?? .f32), rb = rank(tensors[b]?.dtype ?? .f32)
            return ra != rb ? ra > rb : a < b
        }
        var header = "{\"__metadata__\":{"
        header += metadata.keys.sorted().map { "\(JSONText.quote($0)):\(JSONText.quote(metadata[$0] ?? ""))" }.joined(separator: ",")
        header += "}"
        var offset = 0
        for name in names {
            guard let e = tensors[name] else { continue }
            let size = e.tensor.count * e.dtype.size
            header += ",\(JSONText.quote(name)):{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":[\(e.tensor.shape.dims.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + size)]}"
            offset += size
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(UInt8(ascii: " ")) }
        var out = [UInt8]()
        out.reserveCapacity(8 + headerBytes.count + offset)
        let n = UInt64(headerBytes.count)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: n >> (8 * UInt64(i)))) }
        out += headerBytes
        for name in names {
            guard let e = tensors[name] else { continue }
            RawScalars.append(e.tensor.scalars, as: e.dtype, to: &out)
        }
        return out
    }
}
