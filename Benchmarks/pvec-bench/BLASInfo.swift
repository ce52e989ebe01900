import ArgumentParser
import Foundation
import PVecTensor

extension PVecBench {
    struct BLASInfo: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "blas",
            abstract: "Print the OpenBLAS build and kernel pvec runs with.")

        func run() throws {
            let coretype = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "(unset)"
            print("\(BLAS.configuration); OPENBLAS_CORETYPE=\(coretype)")
        }
    }
}
