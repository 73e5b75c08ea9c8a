// A distillation run's teacher: any model Whittle loads (fp32 directory, run, quantized variant,
// .gguf), run on its own kernels in its own precision, checked against the run's data and student
// before anything is allocated, and referenced by path and the SHA-256 of its weights file so that
// a resume notices a changed teacher. Also `student_init = teacher_layers` (DistilBERT's recipe).

import Foundation

/// Where a run's teacher came from: what a checkpoint records.
public struct TeacherReference: Codable, Equatable, Sendable {
    /// The path as the config gives it.
    public var path: String
    /// The weights file's name and its SHA-256 (lowercase hex).
    public var weightsFile: String
    public var sha256: String

    enum CodingKeys: String, CodingKey { case path, weightsFile = "weights_file", sha256 }
}

/// A loaded teacher and its reference.
public final class Teacher: @unchecked Sendable {
    public let model: LoadedModel
    public let reference: TeacherReference

    init(model: LoadedModel, reference: TeacherReference) {
        self.model = model
        self.reference = reference
    }

    /// Loads `config.teacher` and checks it against the data's `tokenizer` and the student's shape.
    /// - Throws: `.file` when it cannot be loaded, `.data` when its tokenizer differs from the data's,
    ///   `.config` when its context is shorter than the student's or the hidden term's widths differ.
    public static func load(_ config: TrainingConfig, tokenizer: CharTokenizer) throws -> Teacher {
        let path = config.teacher
        guard FileManager.default.fileExists(atPath: path) else {
            throw WhittleError.file("no teacher at '\(path)'",
                                    hint: "give a model, run or variant directory (or .gguf file), e.g. teacher = \"sample-models/shakespeare-char-small\"")
        }
        let model = try LoadedModel.load(path)
        try check(model, against: config, tokenizer: tokenizer)
        let bytes = try FileIO.readFile(model.weightsFile)
        let reference = TeacherReference(path: path, weightsFile: URL(fileURLWithPath: model.weightsFile).lastPathComponent,
                                         sha256: SHA256.hex(bytes))
        return Teacher(model: model, reference: reference)
    }

    static func check(_ model: LoadedModel, against config: TrainingConfig, tokenizer: CharTokenizer) throws {
        let teacherVocabulary = model.tokenizer.vocabularySize
        guard teacherVocabulary == tokenizer.vocabularySize else {
            throw WhittleError.data("the teacher \(model.source) has a vocabulary of \(teacherVocabulary) tokens, the student's data \(config.datasetPath) \(tokenizer.vocabularySize): the distributions cannot be compared",
                                    hint: "distil on the text the teacher was trained on (its config.toml's dataset), or choose a teacher with the data's tokenizer")
        }
        guard model.tokenizer == tokenizer else {
            throw WhittleError.data("the teacher \(model.source)'s tokenizer maps characters to other ids than the data's (\(config.datasetPath))",
                                    hint: "distil on the text the teacher was trained on, or start the student with init_from = the teacher so it takes the teacher's tokenizer")
        }
        guard config.contextLength <= model.config.contextLength else {
            throw WhittleError.config("block_size = \(config.contextLength) is longer than the teacher's context (\(model.config.contextLength))",
                                      hint: "set block_size to at most \(model.config.contextLength)")
        }
        if config.distillHiddenWeight > 0, config.embeddingWidth != model.config.embeddingWidth {
            throw WhittleError.config("distill_hidden_weight needs the student's n_embd (\(config.embeddingWidth)) to equal the teacher's (\(model.config.embeddingWidth))",
                                      hint: "set n_embd = \(model.config.embeddingWidth), or distill_hidden_weight = 0")
        }
    }

    /// Throws when `saved` (a checkpoint's reference) no longer describes this teacher.
    public func checkUnchanged(from saved: TeacherReference) throws {
        guard saved.path == reference.path else {
            throw WhittleError.config("the run distils from \(saved.path), but the config now names teacher = \(reference.path)",
                                      hint: "a resumed run keeps its teacher; start a new run to distil from another one")
        }
        guard saved.sha256 == reference.sha256 else {
            throw WhittleError.data("the teacher \(reference.path) changed since the run started (SHA-256 of \(reference.weightsFile) differs)",
                                    hint: "restore the teacher the run started with, or start a new run from this teacher")
        }
    }

    /// The teacher block each student block starts from under `teacher_layers`: every k-th, k = L_teacher / L_student.
    public static func chosenLayers(teacher: Int, student: Int) -> [Int] {
        (0..<student).map { $0 * teacher / student }
    }

    /// Throws `.config` unless `teacher_layers` can copy a `teacher` of this shape into a `student`: the
    /// same width, heads and bias, at most the teacher's blocks, each chosen block of the student's shape.
    public static func checkCopyable(student s: ModelConfig, teacher t: ModelConfig) throws {
        guard s.embeddingWidth == t.embeddingWidth, s.headCount == t.headCount, s.hasBias == t.hasBias,
              s.layerCount <= t.layerCount else {
            throw WhittleError.config("student_init = teacher_layers needs n_embd, n_head and bias equal to the teacher's (\(t.embeddingWidth), \(t.headCount), \(t.hasBias)) and at most its \(t.layerCount) blocks (the student has \(s.embeddingWidth), \(s.headCount), \(s.hasBias), \(s.layerCount))",
                                      hint: "embeddings are copied, not projected: keep the teacher's width, or use student_init = \"scratch\"")
        }
        let layers = chosenLayers(teacher: t.layerCount, student: s.layerCount)
        for (l, chosen) in layers.enumerated() where s.layers[l] != t.layers[chosen] {
            throw WhittleError.config("student block \(l) has another shape than teacher block \(chosen) (heads, MLP width)",
                                      hint: "use student_init = \"scratch\" for a student with pruned or narrowed blocks")
        }
    }

    /// Copies into `student` (the fp32 training arena) the teacher's token and position embeddings
    /// (the first block_size rows), final LayerNorm and every k-th block (`chosenLayers`).
    /// - Throws: `.config` when the teacher is not fp32, has fewer blocks, or another width or block shape.
    public func initialise(_ student: GPTModel) throws {
        guard let source = model.floatModel else {
            throw WhittleError.config("student_init = teacher_layers copies fp32 weights; the teacher \(model.source) is stored as \(model.weightsFile)",
                                      hint: "name the fp32 model the variant was made from as teacher, or use student_init = \"scratch\"")
        }
        try Self.checkCopyable(student: student.config, teacher: source.config)
        let layers = Self.chosenLayers(teacher: source.config.layerCount, student: student.config.layerCount)
        let names = Dictionary(uniqueKeysWithValues: source.layout.tensors.map { ($0.name, $0) })
        for tensor in student.layout.tensors {
            var name = tensor.name
            if let l = tensor.layer {
                name = "h.\(layers[l])." + tensor.name.dropFirst("h.\(l).".count)
            }
            guard let from = names[name], from.count >= tensor.count else {
                preconditionFailure("checked shapes: teacher tensor \(name) exists and is large enough")
            }
            // Same shapes, except wpe: the student's rows are the teacher's first block_size rows.
            (student.parameters.pointer + tensor.offset).update(from: source.parameters.pointer + from.offset, count: tensor.count)
        }
    }
}
