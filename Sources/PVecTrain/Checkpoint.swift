import Foundation
import PVecTensor

/// Training state on disk: prompt, AdamW moments, step and loss curve, as safetensors
/// (`prompt`, `adam_m`, `adam_v`, `losses`; metadata `pvec_checkpoint` = version, `step`).
/// Written to a temp file and renamed, so a crash leaves the previous checkpoint intact.
public struct Checkpoint: Sendable {
    static let version = "1"
    var prompt: Tensor
    var m: [Float]
    var v: [Float]
    var step: Int
    var losses: [Float]

    func write(to url: URL) throws {
        let s = prompt.shape
        let bytes = Safetensors.encode([
            "prompt": prompt,
            "adam_m": Tensor(shape: s, scalars: m),
            "adam_v": Tensor(shape: s, scalars: v),
            "losses": Tensor(shape: [losses.count], scalars: losses),
        ], metadata: ["pvec_checkpoint": Self.version, "step": String(step)])
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp")
        try Data(bytes).write(to: tmp)
        guard rename(tmp.path, url.path) == 0 else {
            throw TrainError.badCheckpoint("cannot write \(url.path): \(String(cString: strerror(errno)))")
        }
    }

    static func read(_ url: URL) throws -> Checkpoint {
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile(bytes: Array(try Data(contentsOf: url)))
        } catch {
            throw TrainError.badCheckpoint("\(url.path): \(error.localizedDescription)")
        }
        guard file.metadata?["pvec_checkpoint"] == version, let step = file.metadata?["step"].flatMap(Int.init) else {
            throw TrainError.badCheckpoint("\(url.path) is not a pvec checkpoint (version \(version))")
        }
        return Checkpoint(prompt: try file.tensor("prompt"), m: try file.tensor("adam_m").scalars,
                          v: try file.tensor("adam_v").scalars, step: step, losses: try file.tensor("losses").scalars)
    }
}
