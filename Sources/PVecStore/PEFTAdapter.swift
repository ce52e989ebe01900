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

    /// A read adapter: the prompt and the config exactly as it came in.
    public struct Contents: Sendable, Equatable {
        /// `[num_virtual_tokens * num_transformer_submodules, token_dim]`.
        public var tensor: Tensor
        /// The config as read, unknown fields included, so an export can keep them.
        public var config: JSONValue
    }

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
        let config: JSONValue
        let configBytes = try readRegularFile(configURL, limit: maxConfigBytes)
        do {
            config = try JSONValue.parse(configBytes)
        } catch {
            throw bad(configURL, "\(error)")
        }
        guard config.objectValue != nil else { throw bad(configURL, "the config is not a JSON object") }
        let type = config["peft_type"]?.stringValue
        guard type == peftType else {
            throw bad(configURL, "peft_type is \(config["peft_type"].map { String($0.canonicalString.prefix(40)) } ?? "missing"), pvec reads \(peftType) adapters only")
        }
        let tokens = try positiveInt(config, "num_virtual_tokens", required: true, configURL)!
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
        do {
            let file = try SafetensorsFile(bytes: try readRegularFile(weightsURL, limit: nil))
            tensor = try file.tensor(tensorKey)
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
        return Contents(tensor: tensor, config: config)
    }

    /// The largest `adapter_config.json` read (PEFT writes about 1 KB).
    public static let maxConfigBytes = 1 << 20

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

    /// Writes an adapter directory PEFT loads (`PeftModel.from_pretrained`).
    ///
    /// The config keeps every field of `config` (when given) and sets the dimensions from the
    /// tensor: `num_virtual_tokens = rows / num_transformer_submodules`, `token_dim = width`.
    /// Files are written to temp names and renamed, so a failed export leaves no half adapter.
    /// - Parameters:
    ///   - baseModel: used for `base_model_name_or_path` when the config has none.
    /// - Throws: `StoreError.invalidAdapter` when the tensor does not fit the config.
    public static func write(tensor: Tensor, config: JSONValue?, baseModel: String?, to directory: URL) throws {
        guard tensor.shape.rank == 2, tensor.count > 0 else {
            throw StoreError.invalidAdapter(path: directory.path, reason: "a prompt must be 2-D [tokens, width], got \(tensor.shape)")
        }
        let rows = tensor.shape.rows, width = tensor.shape.width
        var fields = (config?.objectValue) ?? defaultConfig(rows: rows, width: width, baseModel: baseModel).objectValue!
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
        if fields["base_model_name_or_path"]?.stringValue == nil, let baseModel {
            fields["base_model_name_or_path"] = .string(baseModel)
        }
        let weights = Safetensors.encode([tensorKey: tensor], metadata: ["format": "pt"])
        try FileIO.makeDirectory(directory, syncParent: false)
        try FileIO.replace(directory.appendingPathComponent(weightsFile), with: weights)
        try FileIO.replace(configURL, with: JSONValue.object(fields).canonicalBytes + [0x0A])
    }
}
