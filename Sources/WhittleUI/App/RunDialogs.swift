// The runs-and-models dialogs' state: a picker over model and run directories (with a `/` filter)
// and the new-run form (layers, heads, width, context, dataset, seed) whose host check — the engine's
// own validation messages and a memory estimate — is refreshed as the user types.

import WhittleEngine

/// A directory the workbench can open.
public struct ModelEntry: Equatable, Sendable {
    public var path: String
    /// E.g. "model" or "run, checkpoint at step 2,000".
    public var detail: String
    public init(path: String, detail: String) {
        self.path = path
        self.detail = detail
    }
}

/// What choosing an entry in the picker does.
public enum PickerPurpose: Equatable, Sendable {
    /// Open the directory as the training run.
    case openRun
    /// Add the model to the Compare screen (the first one is the base).
    case compare
    /// Make it the model the Compress screen's passes start from.
    case compress
}

/// The open-a-model dialog.
public struct ModelPicker: Equatable, Sendable {
    public var entries: [ModelEntry]
    public var purpose: PickerPurpose = .openRun
    public var filter = TextField()
    /// Typing goes into the filter (after `/`).
    public var filtering = false
    /// Index into `visible`.
    public var selected = 0

    public init(entries: [ModelEntry], purpose: PickerPurpose = .openRun) {
        self.entries = entries
        self.purpose = purpose
    }

    /// The dialog's title.
    public var title: String {
        switch purpose {
        case .openRun: "open a model or run"
        case .compare: "add a model to compare"
        case .compress: "compress which model?"
        }
    }

    /// Entries whose path contains the filter text (case-insensitive).
    public var visible: [ModelEntry] {
        let needle = filter.text.lowercased()
        return needle.isEmpty ? entries : entries.filter { $0.path.lowercased().contains(needle) }
    }

    public var selection: ModelEntry? {
        let list = visible
        return list.indices.contains(selected) ? list[selected] : nil
    }
}

/// The engine's verdict on a NewRunRequest (from the RunLibrary, as an action).
public enum NewRunCheck: Equatable, Sendable {
    /// What is wrong, in the engine's words (names the key and what is allowed).
    case invalid(String)
    /// Valid; the model's parameters and the memory the run will hold, by category; `warning` when the
    /// run is estimated to take very long (starting it then takes a second Enter).
    case valid(parameters: Int, memory: [MemoryCategory], warning: String? = nil)

    /// The verdict for an estimate the engine made: valid, with its ledger by category.
    public init(_ estimate: NewRunEstimate) {
        let ledger = estimate.ledger
        self = .valid(parameters: estimate.parameters, memory: [
            MemoryCategory(name: "weights", bytes: ledger.weights),
            MemoryCategory(name: "gradients", bytes: ledger.gradients),
            MemoryCategory(name: "optimizer", bytes: ledger.optimizer),
            MemoryCategory(name: "activations", bytes: ledger.activations),
            MemoryCategory(name: "workspace", bytes: ledger.workspace),
        ], warning: estimate.longRunWarning)
    }
}

/// The new-run dialog.
public struct NewRunForm: Equatable, Sendable {
    public enum Field: String, Equatable, Sendable, CaseIterable {
        case layers, heads, width, context, dataset, seed

        var accepts: (Character) -> Bool {
            switch self {
            case .dataset: { !$0.isNewline }
            default: { $0.isASCII && $0.isNumber }
            }
        }
    }

    public var fields: [Field: TextField]
    public var focus: Field = .layers
    /// The latest check of the fields (nil until the host answers).
    public var check: NewRunCheck?
    /// Whether the user already pressed Enter once on a run with a long-run warning.
    public var confirmedLong = false

    public init(layers: Int = 4, heads: Int = 4, width: Int = 128, context: Int = 64,
                dataset: String = "datasets/tinyshakespeare.txt", seed: UInt64 = 1337) {
        fields = [
            .layers: TextField(String(layers)), .heads: TextField(String(heads)), .width: TextField(String(width)),
            .context: TextField(String(context)), .dataset: TextField(dataset), .seed: TextField(String(seed)),
        ]
    }

    public subscript(field: Field) -> TextField {
        get { fields[field] ?? TextField() }
        set { fields[field] = newValue }
    }

    /// The request the fields spell, or what is not a number.
    public func request() -> Result<NewRunRequest, FormError> {
        var numbers: [Field: Int] = [:]
        for field in [Field.layers, .heads, .width, .context] {
            guard let value = Int(self[field].text) else {
                return .failure(FormError(message: "\(field.rawValue) must be a whole number"))
            }
            numbers[field] = value
        }
        guard let seed = UInt64(self[.seed].text) else {
            return .failure(FormError(message: "seed must be a whole number ≥ 0"))
        }
        return .success(NewRunRequest(layers: numbers[.layers]!, heads: numbers[.heads]!, width: numbers[.width]!,
                                      context: numbers[.context]!, dataset: self[.dataset].text, seed: seed))
    }
}
