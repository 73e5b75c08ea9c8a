// Checkpoints: a model directory plus optimizer moments (`optimizer.safetensors`), trainer state
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

    enum CodingKeys: String, CodingKey {
        case format, version, step, dataGenerator = "data_generator", evaluationGenerator = "evaluation_generator",
             corpusSHA256 = "corpus_sha256", history
    }
}

public enum Checkpoint {
    public static let optimizerName = "optimizer.safetensors"
    public static let stateName = "state.json"
    public static let configName = "config.toml"

    /// Directory name of the checkpoint after `step` optimizer steps.
    public static func directoryName(step: Int) -> String {
        let digits = String(step)
        return "ckpt-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
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
        let moments = model.layout.tensors.flatMap { tensor in
            [(name: "m." + tensor.name, shape: tensor.shape,
              values: Array(UnsafeBufferPointer(start: firstMoment.pointer + tensor.offset, count: tensor.count))),
             (name: "v." + tensor.name, shape: tensor.shape,
              values: Array(UnsafeBufferPointer(start: secondMoment.pointer + tensor.offset, count: tensor.count)))]
        }
        let optimizer = try SafetensorsWriter.serialize(tensors: moments,
                                                        metadata: ["optimizer": "adamw", "step": String(step)])
        let state = TrainerState(step: step, dataGenerator: Checkpoint.hex(dataGenerator),
                                 evaluationGenerator: Checkpoint.hex(evaluationGenerator),
                                 corpusSHA256: corpusSHA256, history: history)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try ModelDirectory.files(model: model, tokenizer: tokenizer, dropout: config.dropout,
                                        metadata: ["step": String(step)])
            + [(Checkpoint.optimizerName, optimizer),
               (Checkpoint.stateName, [UInt8](try encoder.encode(state))),
               (Checkpoint.configName, Array(config.tomlString().utf8))]
    }

    /// Replaces weights, optimizer moments, step, generators and history with a checkpoint's.
    func restore(from directory: String, state: TrainerState) throws {
        let loaded = try ModelDirectory.load(directory)
        guard loaded.model.config == model.config else {
            throw WhittleError.file("\(directory): the checkpoint's model shape differs from its config.toml",
                                    hint: "the checkpoint is damaged; resume from an earlier one")
        }
        model.parameters.copy(from: loaded.model.parameters)
        let optimizerPath = directory + "/" + Checkpoint.optimizerName
        let moments = try SafetensorsFile(path: optimizerPath)
        for tensor in model.layout.tensors {
            for (prefix, buffer) in [("m.", firstMoment), ("v.", secondMoment)] {
                guard let info = moments.info(prefix + tensor.name), info.shape == tensor.shape else {
                    throw WhittleError.file("\(optimizerPath) lacks \(prefix + tensor.name) with shape \(tensor.shape)",
                                            hint: "the checkpoint is damaged; resume from an earlier one")
                }
                let values = try moments.floats(prefix + tensor.name)
                values.withUnsafeBufferPointer { (buffer.pointer + tensor.offset).update(from: $0.baseAddress!, count: tensor.count) }
            }
        }
        let source = directory + "/" + Checkpoint.stateName
        step = state.step
        history = state.history
        dataGenerator = try Checkpoint.generator(state.dataGenerator, field: "data_generator", source: source)
        evaluationGenerator = try Checkpoint.generator(state.evaluationGenerator, field: "evaluation_generator", source: source)
    }
}
