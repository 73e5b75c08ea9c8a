// The Compare screen's model: the models being compared (the base first), the engine's report on
// them (`ComparisonReport`, the numbers `whittle compare --json` prints), the table's sort order
// and selection (shared with the Pareto plot), the evaluation text, which variant directories have
// disappeared from disk, and a side-by-side generation.

import WhittleEngine

/// A generation of the same prompt and seed through several models.
public struct SideBySide: Equatable, Sendable {
    public var models: [String]
    public var outputs: [String]
    /// Per model: its timing once finished, or why it failed.
    public var summaries: [GenerationSummary?]
    public var failures: [String?]

    public init(models: [String], prompt: String) {
        self.models = models
        outputs = models.map { _ in prompt }
        summaries = models.map { _ in nil }
        failures = models.map { _ in nil }
    }

    public var isRunning: Bool { zip(summaries, failures).contains { $0 == nil && $1 == nil } }
}

/// Which tensors of a variant lost most.
public struct TensorErrorView: Equatable, Sendable {
    public var model: String
    /// nil while measuring.
    public var errors: [TensorError]?
    public var failure: String?

    public init(model: String) { self.model = model }
}

/// The Compare screen's state.
public struct CompareState: Equatable, Sendable {
    /// The table's sortable columns, in display order.
    public enum Column: Int, CaseIterable, Equatable, Sendable {
        case model, loss, lossChange, kld, agreement, file, bits, decode, prefill

        public var title: String {
            switch self {
            case .model: "model"
            case .loss: "loss"
            case .lossChange: "Δ loss"
            case .kld: "KLD"
            case .agreement: "top1"
            case .file: "file"
            case .bits: "bits/w"
            case .decode: "ms/tok"
            case .prefill: "pp t/s"
            }
        }

        /// The title in ASCII.
        public func title(ascii: Bool) -> String { ascii && self == .lossChange ? "d loss" : title }
    }

    public enum Status: Equatable, Sendable {
        /// Nothing measured yet.
        case idle
        /// The engine is measuring: what it is doing and how far (0...1).
        case measuring(String, Double)
        case measured
        /// The measurement failed; the last report (if any) stays on screen.
        case failed(String)
    }

    /// What the plot's x axis shows.
    public enum PlotAxis: Equatable, Sendable { case fileBytes, decodeLatency }
    /// What the plot's y axis shows (lower is better for both).
    public enum Quality: Equatable, Sendable { case loss, kld }

    /// The base first, then the variants.
    public var models: [String] = []
    public var report: ComparisonReport?
    public var status: Status = .idle
    public var sortColumn: Column = .model
    public var descending = false
    /// The selected model, by its index in `report.models` (shared by the table and the plot).
    public var selected = 0
    public var plotAxis: PlotAxis = .fileBytes
    public var quality: Quality = .loss
    /// The evaluation text: a file path, or empty for the base's validation split.
    public var data = TextField()
    /// Typing goes into `data` (after `d`).
    public var editingData = false
    /// The prompt of the side-by-side generation and whether it is being typed (after `g`).
    public var prompt = TextField("ROMEO:")
    public var editingPrompt = false
    public var sideBySide: SideBySide?
    /// The selected variant's per-tensor weight errors against the base (shown instead of the plot),
    /// or why they could not be measured; `model` is the variant asked about.
    public var tensorErrors: TensorErrorView?
    /// Model paths that no longer exist on disk (deleted from outside while open).
    public var missing: [String] = []

    public init() {}

    /// The evaluation text for a request: nil for the validation split.
    public var dataPath: String? {
        let text = data.text.trimmingWhitespace()
        return text.isEmpty ? nil : text
    }

    public var isMeasuring: Bool { if case .measuring = status { true } else { false } }

    /// Row indices of `report.models` in display order (the base stays first when sorting by model).
    public var order: [Int] {
        guard let rows = report?.models else { return [] }
        let indices = Array(rows.indices)
        guard sortColumn != .model else { return descending ? indices.reversed() : indices }
        // Rows without the figure (the base's Δ loss, unmeasured speed) sort last in either direction.
        let keyed = indices.map { ($0, CompareState.sortKey(rows[$0], sortColumn)) }
        let present = keyed.filter { $0.1 != nil }.sorted { a, b in
            a.1! == b.1! ? a.0 < b.0 : (descending ? a.1! > b.1! : a.1! < b.1!)
        }
        return present.map(\.0) + keyed.filter { $0.1 == nil }.map(\.0)
    }

    /// The value a row sorts by in `column`; nil when the row has none.
    static func sortKey(_ row: ComparisonReport.Row, _ column: Column) -> Double? {
        switch column {
        case .model: nil
        case .loss: row.evaluation.loss
        case .lossChange: row.comparison?.lossChange
        case .kld: row.comparison?.divergence.mean
        case .agreement: row.comparison?.agreement
        case .file: Double(row.fileBytes)
        case .bits: row.bitsPerWeight
        case .decode: row.speed?.decodeMillisecondsPerToken.mean
        case .prefill: row.speed?.prefillTokensPerSecond.mean
        }
    }

    /// The request that measures `models` on the chosen text, as `whittle compare` would.
    public var request: ComparisonRequest {
        ComparisonRequest(models: models, data: dataPath, speed: ComparisonRequest.Speed(repetitions: 3))
    }

    /// Whether `path` was deleted from outside.
    public func isMissing(_ path: String) -> Bool { missing.contains(path) }
}
