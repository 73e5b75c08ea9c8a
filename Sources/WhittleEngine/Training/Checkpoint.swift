// Checkpoints: a model directory plus optimizer state (`optimizer.safetensors`: the tensors
// `OptimizerState.exportedTensors()` names, e.g. `m.wte.weight`, with the optimizer in the metadata), trainer state
// (`state.json`: step, generator states = data cursor, corpus hash, history) and the run's exact
// `config.toml`, published atomically with a SHA-256 manifest. Resume picks the newest complete one.

import Foundation

/// Trainer state that is not a tensor, as stored in `state.json`.
struct TrainerState: Codable {
    var format = "whittle-checkpoint"
    var version = 1
    var step: Int
    /// xoshiro256** states as 16-digit hex words (JSON numbers cannot hold 64-bit integers exactly).
    var dataGenerator: [String]
    var evaluationGenerator: [String]
    var corpusSHA256: String
    var history: [StepRecord]
    /// fp16 runs with loss scaling: the scaler's state (absent otherwise).
    var lossScaler: LossScaler? = nil
    /// Distillation runs: the teacher's path and the SHA-256 of its weights file (absent otherwise).
    var teacher: TeacherReference? = nil

    enum CodingKeys: String, CodingKey {
        case format, version, step, dataGenerator = "data_generator", evaluationGenerator = "evaluation_generator",
             corpusSHA256 = "corpus_sha256", history, lossScaler = "loss_scaler", teacher
    }
}

public enum Checkpoint {
    public static let optimizerName = "optimizer.safetensors"
    public static let stateName = "state.json"
    public static let configName = "config.toml"

    /// What every checkpoint directory's name starts with.
    public static let directoryPrefix = "ckpt-"

    /// Directory name of the checkpoint after `step` optimizer steps.
    public static func directoryName(step: Int) -> String {
        let digits = String(step)
        return directoryPrefix + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// Whether `directory` already holds a training run: its config.toml, its log or a checkpoint.
    public static func holdsRun(_ directory: String) -> Bool {
        FileIO.exists(directory + "/" + configName) || FileIO.exists(directory + "/" + TrainingRun.logName)
            || ((try? newest(in: directory)) ?? nil) != nil
    }

    /// The newest complete checkpoint directory in `runDirectory`, or nil if there is none.
    public static func newest(in runDirectory: String) throws -> String? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: runDirectory)) ?? []
        let steps = entries.compactMap { name -> (Int, String)? in
            guard name.hasPrefix("ckpt-"), !name.contains(".tmp"), let step = Int(name.dropFirst(5)) else { return nil }
            return (step, runDirectory + "/" + name)
        }
        for (_, path) in steps.sorted(by: { $0.0 > $1.0 }) where AtomicDirectory.isComplete(path) {
            return path
        }
        return nil
    }

    static func hex(_ generator: RandomGenerator) -> [String] {
        generator.state.map { word in
            let digits = String(word, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
    }

    static func generator(_ words: [String], field: String, source: String) throws -> RandomGenerator {
        let values = words.compactMap { UInt64($0, radix: 16) }
        guard values.count == 4, words.count == 4 else {
            throw WhittleError.file("\(source): \(field) must be four 64-bit hex words",
                                    hint: "the checkpoint is damaged; resume from an earlier one")
        }
        var generator = RandomGenerator(seed: 0)
        generator.state = values
        return generator
    }
}

extension Trainer {
    /// Every file of a checkpoint of the current state.
    func checkpointFiles(corpusSHA256: String) throws -> [(name: String, bytes: [UInt8])] {
        if let tensor = model.firstNonFiniteTensor(in: model.parameters) {
            throw WhittleError(.numeric, "refusing to write a checkpoint: \(tensor) holds a NaN or infinity",
                               hint: "resume from the last checkpoint with a lower learning_rate")
        }
        let optimizer = try optimizerFile()
        let state = TrainerState(step: step, dataGenerator: Checkpoint.hex(dataGenerator),
                                 evaluationGenerator: Checkpoint.hex(evaluationGenerator),
                                 corpusSHA256: corpusSHA256, history: history, lossScaler: lossScaler,
                                 teacher: teacher?.reference)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try ModelDirectory.files(model: model, tokenizer: tokenizer, dropout: config.dropout,
                                        metadata: ["step": String(step)], mask: mask)
            + [(Checkpoint.optimizerName, optimizer),
               (Checkpoint.stateName, [UInt8](try encoder.encode(state))),
               (Checkpoint.configName, Array(config.tomlString().utf8))]
    }

    /// `optimizer.safetensors`: every state tensor (F32, or U8 codes for 8-bit state) and metadata
    /// naming the optimizer, its own step count and, for 8-bit AdamW, the block size and code map.
    func optimizerFile() throws -> [UInt8] {
        let tensors = optimizerState.exportedTensors().map { tensor -> SafetensorsWriter.RawTensor in
            switch tensor.values {
            case .float32(let values):
                var bytes: [UInt8] = []
                bytes.reserveCapacity(values.count * 4)
                for value in values {
                    let bits = value.bitPattern
                    for shift in [0, 8, 16, 24] { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt32(shift))) }
                }
                return .init(name: tensor.name, dataType: .f32, shape: tensor.shape, bytes: bytes)
            case .uint8(let values):
                return .init(name: tensor.name, dataType: .u8, shape: tensor.shape, bytes: values)
            }
        }
        var metadata = ["optimizer": optimizerState.kind.rawValue, "step": String(step),
                        "optimizer_step": String(optimizerState.step)]
        if optimizerState.kind == .adamw8bit {
            metadata["block_size"] = String(AdamW8bit.blockSize)
            metadata["quantization"] = "bitsandbytes dynamic map (signed m / unsigned v), absmax per block"
            metadata["min_8bit_size"] = String(AdamW8bit.minimumQuantizedCount)
        }
        return try SafetensorsWriter.serialize(tensors, metadata: metadata)
    }

    /// Replaces weights, optimizer state, step, generators and history with a checkpoint's.
    /// `savedOptimizer` is the optimizer of the checkpoint's own config.toml; the state file must
    /// hold that optimizer's state (else the checkpoint is inconsistent). When the run's config names
    /// another optimizer (changed on purpose with `--set optimizer=…`), the state switches as a live
    /// edit would and `notes` says so.
    func restore(from directory: String, state: TrainerState, savedOptimizer: OptimizerKind? = nil) throws {
        let loaded = try ModelDirectory.loadWithMask(directory)
        guard loaded.model.config == model.config else {
            throw WhittleError.file("\(directory): the checkpoint's model shape differs from its config.toml",
                                    hint: "the checkpoint is damaged; resume from an earlier one")
        }
        model.parameters.copy(from: loaded.model.parameters)
        try restoreOptimizer(from: directory + "/" + Checkpoint.optimizerName, trainerStep: state.step,
                             savedOptimizer: savedOptimizer ?? config.optimizer)
        try keep(loaded.mask)   // a pruned run's mask is its checkpoint's sparse weights file
        let source = directory + "/" + Checkpoint.stateName
        step = state.step
        history = state.history
        // A run that still scales continues from the saved scale; one that starts scaling starts afresh.
        if lossScaler != nil, let saved = state.lossScaler { lossScaler = saved }
        dataGenerator = try Checkpoint.generator(state.dataGenerator, field: "data_generator", source: source)
        evaluationGenerator = try Checkpoint.generator(state.evaluationGenerator, field: "evaluation_generator", source: source)
    }

    func restoreOptimizer(from path: String, trainerStep: Int, savedOptimizer: OptimizerKind) throws {
        let file = try SafetensorsFile(path: path)
        // Checkpoints from before the optimizer choice hold AdamW moments and no optimizer_step.
        let name = file.metadata["optimizer"] ?? "adamw"
        guard let kind = OptimizerKind(rawValue: name) else {
            throw WhittleError.file("\(path) holds state of an unknown optimizer `\(name)`",
                                    hint: "known optimizers: " + OptimizerKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard kind == savedOptimizer else {
            throw WhittleError.file("\(path) holds \(kind.rawValue) state but the checkpoint's config.toml says optimizer = \"\(savedOptimizer.rawValue)\"",
                                    hint: "the checkpoint is inconsistent; resume from an earlier one, or pass --set optimizer=\(savedOptimizer.rawValue) explicitly to start that optimizer fresh")
        }
        let optimizerStep = file.metadata["optimizer_step"].flatMap { Int($0) } ?? trainerStep
        let loaded = OptimizerState(kind: kind, layout: model.layout)
        do {
            try loaded.load(step: optimizerStep) { name in
                guard let info = file.info(name) else { return nil }
                switch info.dataType {
                case .u8: return OptimizerStateTensor(name: name, shape: info.shape, values: .uint8(Array(try file.rawBytes(name))))
                default: return OptimizerStateTensor(name: name, shape: info.shape, values: .float32(try file.floats(name)))
                }
            }
        } catch let error as OptimizerStateError {
            throw WhittleError.file("\(path) \(error.message)", hint: "the checkpoint is damaged; resume from an earlier one")
        }
        optimizerState = loaded
        if config.optimizer != kind { switchOptimizer(to: config.optimizer) }
    }
}
