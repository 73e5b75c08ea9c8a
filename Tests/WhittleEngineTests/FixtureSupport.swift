// Test support: the Hugging Face GPT-2 reference fixture (weights, inputs, PyTorch outputs),
// read with a minimal loader for these trusted files.

import Foundation
import WhittleKernels

enum Fixture {
    static var directory: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("gpt2-tiny-reference")
    }

    /// Name → float values of a trusted F32 safetensors file.
    static func tensors(_ file: String) throws -> [String: [Float]] {
        let bytes = [UInt8](try Data(contentsOf: directory.appendingPathComponent(file)))
        let headerLength = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + headerLength)])) as! [String: Any]
        var result: [String: [Float]] = [:]
        for (name, value) in header where name != "__metadata__" {
            let info = value as! [String: Any]
            let offsets = info["data_offsets"] as! [Int]
            let start = 8 + headerLength + offsets[0]
            let count = (offsets[1] - offsets[0]) / 4
            result[name] = (0..<count).map { i in
                let o = start + 4 * i
                return Float(bitPattern: UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24)
            }
        }
        return result
    }

    static func inputs() throws -> (tokens: [[Int32]], targets: [[Int32]]) {
        let data = try Data(contentsOf: directory.appendingPathComponent("inputs.json"))
        let json = try JSONSerialization.jsonObject(with: data) as! [String: [[Int]]]
        return (json["input_ids"]!.map { $0.map(Int32.init) }, json["targets"]!.map { $0.map(Int32.init) })
    }

    static let dimensions = GPTDimensions(L: 2, NH: 4, C: 32, maxT: 16, V: 65)

    /// The fixture's weights packed into a parameter arena.
    static func parameters(_ layout: ParameterLayout) throws -> FloatBuffer {
        let weights = try tensors("model.safetensors")
        let buffer = FloatBuffer(count: layout.totalCount)
        for tensor in layout.tensors {
            let values = weights["transformer." + tensor.name]!
            precondition(values.count == tensor.count, "\(tensor.name) size")
            for i in 0..<tensor.count { buffer[tensor.offset + i] = values[i] }
        }
        return buffer
    }
}

/// Largest |a−b| / max(|b|, floor) over the elements.
func maxRelativeError(_ a: [Float], _ b: [Float], floor: Float = 1e-3) -> Float {
    precondition(a.count == b.count)
    var worst: Float = 0
    for i in 0..<a.count { worst = max(worst, abs(a[i] - b[i]) / max(abs(b[i]), floor)) }
    return worst
}
