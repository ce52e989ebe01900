import ArgumentParser
import Foundation
import PVecModel

/// Where the frozen backbone lives.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Model directory (default: $PVEC_MODEL, else ~/.cache/pvec/models/all-MiniLM-L6-v2).", valueName: "dir"))
    var model: String?

    func load() throws -> BertEncoder {
        try BertEncoder(directory: model.map { URL(fileURLWithPath: $0) })
    }
}
