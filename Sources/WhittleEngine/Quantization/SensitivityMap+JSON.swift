// A sensitivity map as JSON (`whittle quantize --scan --json`, `sensitivity.json` in a variant made
// with --target-bpw, read back with --scan-file): types by name, KLD per tensor and type, and the
// calibration it was measured on. Reading checks it against the model it is applied to.

import Foundation

extension SensitivityMap {
    /// The map's file name in a variant directory.
    public static let fileName = "sensitivity.json"

    private struct File: Codable {
        struct Row: Codable {
            var tensor: String
            var parameters: Int
            var row_length: Int
            var kld: [String: Double]
        }
        var formats: [String]
        var tensors: [Row]
        var fixed_bytes: Int
        var parameters: Int
        var calibration_text: String
        var samples: Int
        var seed: UInt64
        var context_length: Int
        var seconds: Double
    }

    public func json() throws -> String {
        let file = File(formats: formats.map(\.rawValue),
                        tensors: rows.map { row in
                            File.Row(tensor: row.tensor, parameters: row.parameters, row_length: row.rowLength,
                                     kld: Dictionary(uniqueKeysWithValues: row.divergence.map { ($0.key.rawValue, $0.value) }))
                        },
                        fixed_bytes: fixedBytes, parameters: parameterCount, calibration_text: source, samples: samples,
                        seed: seed, context_length: contextLength, seconds: seconds)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(file), as: UTF8.self)
    }

    /// Reads a map saved with `whittle quantize --scan --json`.
    public static func load(path: String) throws -> SensitivityMap {
        try parse(try FileIO.readFile(path), source: path)
    }

    /// Parses a map written by `json()`; `source` names the file in errors.
    public static func parse(_ bytes: [UInt8], source: String) throws -> SensitivityMap {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: Data(bytes))
        } catch {
            throw WhittleError.file("\(source) is not a sensitivity map written by `whittle quantize --scan --json`",
                                    hint: "run the scan again: whittle quantize --model M --scan --json > \(source)")
        }
        func format(_ name: String) throws -> WeightFormat {
            guard let format = WeightFormat(rawValue: name), format.traits.ggufType != nil else {
                throw WhittleError.file("\(source) names an unknown type '\(name)'", hint: "run the scan again")
            }
            return format
        }
        let rows = try file.tensors.map { row -> Row in
            guard row.parameters > 0, row.row_length > 0, row.parameters % row.row_length == 0 else {
                throw WhittleError.file("\(source): tensor \(row.tensor) has an impossible size", hint: "run the scan again")
            }
            var divergence: [WeightFormat: Double] = [:]
            for (name, value) in row.kld {
                guard value.isFinite, value >= 0 else {
                    throw WhittleError.file("\(source): the KLD of \(row.tensor) at \(name) is not a finite non-negative number", hint: "run the scan again")
                }
                divergence[try format(name)] = value
            }
            return Row(tensor: row.tensor, parameters: row.parameters, rowLength: row.row_length, divergence: divergence)
        }
        return SensitivityMap(formats: try file.formats.map(format), rows: rows, fixedBytes: file.fixed_bytes,
                              parameterCount: file.parameters, source: file.calibration_text, samples: file.samples,
                              seed: file.seed, contextLength: file.context_length, seconds: file.seconds)
    }

    /// Throws unless the map was measured on a model with `layout`'s quantizable tensors and parameter count.
    public func check(against layout: ParameterLayout, source: String) throws {
        let targets = layout.tensors.filter(QuantizationPlan.isQuantizable)
        let fixed = layout.tensors.filter { !QuantizationPlan.isQuantizable($0) }.reduce(0) { $0 + $1.count * 4 }
        let matches = targets.count == rows.count && layout.totalCount == parameterCount && fixed == fixedBytes
            && zip(targets, rows).allSatisfy { $0.name == $1.tensor && $0.count == $1.parameters && QuantizationPlan.rowLength($0) == $1.rowLength }
        guard matches else {
            throw WhittleError.config("\(source) was measured on another model (its tensors or sizes differ from this one's)",
                                      hint: "scan this model: whittle quantize --model M --scan --json > scan.json")
        }
    }
}
