// A sensitivity map (tensors × types → mean KL divergence to the base when that tensor alone takes
// that type) and what it predicts: a plan's bytes, bits per weight and KLD (the per-tensor KLDs added,
// a first-order estimate that holds while each tensor's error is small), and the plan that minimises
// predicted KLD within a size — an exact multiple-choice knapsack over byte units (each tensor's bytes
// rounded up, so the plan never exceeds the size asked for).

import Foundation

public struct SensitivityMap: Equatable, Sendable {
    /// One quantizable tensor: its KLD at each type that fits its rows.
    public struct Row: Equatable, Sendable {
        public var tensor: String
        public var parameters: Int
        /// The reduction length its rows are stored with (a type fits when its blocks divide it).
        public var rowLength: Int
        public var divergence: [WeightFormat: Double]

        public init(tensor: String, parameters: Int, rowLength: Int, divergence: [WeightFormat: Double]) {
            self.tensor = tensor
            self.parameters = parameters
            self.rowLength = rowLength
            self.divergence = divergence
        }

        /// Bytes of this tensor stored as `format` (f32 always fits).
        public func bytes(_ format: WeightFormat) -> Int? {
            format.rowBytes(rowLength).map { parameters / rowLength * $0 }
        }

        /// KLD of `format`: 0 for f32, nil for a type that was not scanned or does not fit.
        public func kld(_ format: WeightFormat) -> Double? { format == .f32 ? 0 : divergence[format] }

        /// The types this row can take: f32 and every scanned type.
        var options: [WeightFormat] { [.f32] + divergence.keys.sorted { $0.bitsPerWeight > $1.bitsPerWeight } }
    }

    /// The types scanned, in the order given.
    public var formats: [WeightFormat]
    /// Quantizable tensors in layout order.
    public var rows: [Row]
    /// Bytes of the tensors that stay f32 (LayerNorms, biases, the position table).
    public var fixedBytes: Int
    public var parameterCount: Int
    /// The calibration text, window count and seed, and the context the windows had.
    public var source: String
    public var samples: Int
    public var seed: UInt64
    public var contextLength: Int
    public var seconds: Double

    public init(formats: [WeightFormat], rows: [Row], fixedBytes: Int, parameterCount: Int, source: String, samples: Int,
                seed: UInt64, contextLength: Int, seconds: Double) {
        self.formats = formats
        self.rows = rows
        self.fixedBytes = fixedBytes
        self.parameterCount = parameterCount
        self.source = source
        self.samples = samples
        self.seed = seed
        self.contextLength = contextLength
        self.seconds = seconds
    }

    /// A per-tensor choice of types, in `rows` order.
    public typealias Assignment = [WeightFormat]

    /// Stored bytes of an assignment (what `WeightStore.payloadBytes` will be).
    public func bytes(_ assignment: Assignment) -> Int {
        zip(rows, assignment).reduce(fixedBytes) { $0 + ($1.0.bytes($1.1) ?? 0) }
    }

    /// Bits per parameter of an assignment, every parameter counted (as `Variant.bitsPerWeight`).
    public func bitsPerWeight(_ assignment: Assignment) -> Double {
        Double(bytes(assignment) * 8) / Double(max(parameterCount, 1))
    }

    /// Predicted KLD of an assignment: the per-tensor KLDs added; nil when a type was not scanned for a tensor.
    public func predictedDivergence(_ assignment: Assignment) -> Double? {
        var sum = 0.0
        for (row, format) in zip(rows, assignment) {
            guard let value = row.kld(format) else { return nil }
            sum += value
        }
        return sum
    }

    /// The assignment a plan gives (each row's type from `formats`, a tensor name → type lookup).
    public func assignment(_ formatOf: (String) -> WeightFormat) -> Assignment { rows.map { formatOf($0.tensor) } }

    /// The smallest bits per weight any assignment of scanned types reaches.
    public var minimumBitsPerWeight: Double {
        bitsPerWeight(rows.map { row in row.options.min { row.bytes($0)! < row.bytes($1)! }! })
    }

    /// The assignment with the least predicted KLD whose bits per weight is at most `target`.
    /// Throws `.invalidConfig` when no assignment of the scanned types is that small.
    public func plan(targetBitsPerWeight target: Double) throws -> Assignment {
        guard target.isFinite, target > 0 else {
            throw WhittleError.config("--target-bpw must be a positive number of bits per weight (got \(target))",
                                      hint: "for example --target-bpw 5.0")
        }
        let budget = Int((target * Double(parameterCount) / 8).rounded(.down)) - fixedBytes
        let minimum = minimumBitsPerWeight
        guard budget >= 0, minimum <= target else {
            throw WhittleError.config(String(format: "--target-bpw %.3f is below what any plan of the scanned types reaches (%.3f bits per weight: every tensor at its smallest type, LayerNorms, biases and the position table at f32)", target, minimum),
                                      hint: String(format: "ask for %.2f or more, or scan smaller types (--scan-types)", minimum))
        }
        // Multiple-choice knapsack over units of `unit` bytes: best[u] = least KLD of the rows so far within u units.
        let capacity = 50_000
        let unit = max(1, (budget + capacity - 1) / capacity)
        let units = budget / unit
        let infinity = Double.infinity
        var best = [Double](repeating: 0, count: units + 1)
        var choice: [[UInt8]] = []
        for row in rows {
            let options = row.options
            var next = [Double](repeating: infinity, count: units + 1)
            var picked = [UInt8](repeating: UInt8.max, count: units + 1)
            for (index, format) in options.enumerated() {
                let cost = (row.bytes(format)! + unit - 1) / unit, value = row.kld(format)!
                guard cost <= units else { continue }
                for u in cost...units where best[u - cost] + value < next[u] {
                    next[u] = best[u - cost] + value
                    picked[u] = UInt8(index)
                }
            }
            best = next
            choice.append(picked)
        }
        guard var u = best.indices.min(by: { best[$0] < best[$1] }), best[u].isFinite else {
            throw WhittleError.config(String(format: "--target-bpw %.3f is below what any plan of the scanned types reaches (%.3f)", target, minimum),
                                      hint: String(format: "ask for %.2f or more", minimum))
        }
        var assignment = Assignment(repeating: .f32, count: rows.count)
        for r in stride(from: rows.count - 1, through: 0, by: -1) {
            let format = rows[r].options[Int(choice[r][u])]
            assignment[r] = format
            u -= (rows[r].bytes(format)! + unit - 1) / unit
        }
        return assignment
    }

    /// A plan that stores `assignment`: the most common matrix type as the default, the embedding's own
    /// type, and one exact-name rule for every matrix that differs from the default.
    public func quantizationPlan(_ assignment: Assignment, embeddingTensor: String = "wte.weight") -> QuantizationPlan {
        let matrices = zip(rows, assignment).filter { $0.0.tensor != embeddingTensor }
        var counts: [WeightFormat: Int] = [:]
        for (_, format) in matrices { counts[format, default: 0] += 1 }
        let common = counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key.bitsPerWeight > $1.key.bitsPerWeight) }?.key ?? .q8_0
        let embedding = zip(rows, assignment).first { $0.0.tensor == embeddingTensor }?.1 ?? QuantizationPlan.defaultEmbeddingFormat
        let rules = matrices.filter { $0.1 != common }.map { QuantizationPlan.Rule(pattern: $0.0.tensor, format: $0.1) }
        return QuantizationPlan(defaultFormat: common, embeddingFormat: embedding, rules: rules)
    }
}
