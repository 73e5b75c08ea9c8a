// Reading a llama.cpp `gpt2` GGUF file (Whittle's own or another writer's) back into a model config,
// a character tokenizer and a `WeightStore`. The file has already passed `GGUFFile`'s structural
// checks; here every key, tensor name, shape and type is checked against the model the metadata
// describes before the store is allocated. f32 matrices return to the training layout (`[in, out]`,
// so a store written and read back is the same store, bit for bit); other formats stay `[out, in]`;
// vectors and the position table that a file stores in another type are widened to f32.

extension GPT2GGUF {
    /// What a GGUF file holds, in Whittle's terms.
    public struct Model: Sendable {
        public let config: ModelConfig
        public let tokenizer: CharTokenizer
        public let store: WeightStore
        /// `general.name`, if the file has one.
        public let name: String?
    }

    /// Reads the GGUF file at `path` as a GPT-2 model.
    public static func read(path: String) throws -> Model {
        let file = try GGUFFile(path: path)
        do {
            return try read(file)
        } catch let error as WhittleError where error.kind == .invalidFile {
            throw WhittleError(error.kind, "\(path): \(error.message)", hint: error.hint)
        }
    }

    /// The model a parsed GGUF file holds. Throws `.file` naming the first key or tensor that does not
    /// fit llama.cpp's `gpt2` layout or Whittle's model.
    public static func read(_ file: GGUFFile) throws -> Model {
        let architecture = try string(file, "general.architecture")
        guard architecture == "gpt2" else {
            throw invalid("its architecture is \"\(architecture)\", not gpt2", hint: "Whittle reads GPT-2 models only")
        }
        let tokenizer = try self.tokenizer(file)
        let blocks = try integer(file, "gpt2.block_count")
        // Embeddings, final norm and 12 tensors a block: checked before any table is sized from the count.
        guard blocks <= file.tensors.count / 12 else {
            throw invalid("gpt2.block_count is \(blocks), which needs \(4 + 12 * blocks) tensors, but the file has \(file.tensors.count)",
                          hint: "the metadata and tensors disagree; convert the model again")
        }
        let width = try integer(file, "gpt2.embedding_length")
        let heads = try integer(file, "gpt2.attention.head_count")
        var config = ModelConfig(layerCount: blocks, headCount: heads, embeddingWidth: width,
                                 contextLength: try integer(file, "gpt2.context_length"),
                                 vocabularySize: tokenizer.vocabularySize, hasBias: true,
                                 layerNormEpsilon: Float(try number(file, "gpt2.attention.layer_norm_epsilon")))
        let ffn = try integer(file, "gpt2.feed_forward_length")
        if ffn != 4 * width {
            config.setLayerShapes(Array(repeating: LayerShape(heads: heads, hiddenWidth: ffn), count: config.layerCount))
        }
        do {
            try config.validate()
        } catch let error as WhittleError {
            throw invalid("its metadata describe an impossible model: \(error.message)")
        }
        let layout = ParameterLayout(config.dimensions)
        let sources = try layout.tensors.map { try source(file, for: $0) }
        try checkNoExtraTensors(file, expected: Set(sources.map(\.name)))
        let stored = zip(layout.tensors, sources).map { tensor, info -> (format: WeightFormat, orientation: Orientation) in
            let format = info.type.weightFormat!
            switch tensor.role {
            case .weight: return format == .f32 ? (.f32, .inputMajor) : (format, .outputMajor)
            case .tokenEmbedding: return (format, .outputMajor)
            default: return (.f32, tensor.shape.count == 2 ? .outputMajor : .vector)
            }
        }
        let store = try WeightStore(layout: layout, stored: stored) { tensor, destination in
            let index = layout.tensors.firstIndex { $0.name == tensor.name }!
            try fill(destination, as: tensor, from: file, sources[index])
        }
        return Model(config: config, tokenizer: tokenizer, store: store, name: file["general.name"]?.stringValue)
    }

    /// The file's tensor for `tensor`, checked for name, shape and a type Whittle can run.
    static func source(_ file: GGUFFile, for tensor: ParameterTensor) throws -> GGUFTensorInfo {
        let name = self.name(tensor)
        guard let info = file.tensor(named: name) else {
            throw invalid("it has no tensor \(name), which a gpt2 model of its metadata needs",
                          hint: "the file is incomplete or not a GPT-2 model")
        }
        let expected = ggufDimensions(tensor)
        guard info.dimensions == expected else {
            throw invalid("tensor \(name) has dimensions \(info.dimensions); the metadata imply \(expected)",
                          hint: "the tensors and the metadata disagree; convert the model again")
        }
        guard info.type.weightFormat != nil else {
            let runnable = WeightFormat.allCases.compactMap { GGMLType($0)?.name }.joined(separator: ", ")
            throw invalid("tensor \(name) is stored as \(info.type), which Whittle cannot run (it runs \(runnable))",
                          hint: "requantize the model with llama-quantize to one of those types")
        }
        return info
    }

    static func checkNoExtraTensors(_ file: GGUFFile, expected: Set<String>) throws {
        for tensor in file.tensors where !expected.contains(tensor.name) {
            if tensor.name == "output.weight" {
                throw invalid("it has an output.weight tensor: the head is not tied to token_embd",
                              hint: "Whittle's GPT-2 ties the LM head to the token embedding; convert a tied model")
            }
            throw invalid("it has a tensor \(tensor.name) that a gpt2 model of its metadata does not have",
                          hint: "the metadata and tensors disagree, or the model is not a plain GPT-2")
        }
    }

    /// Copies (transposing or widening as needed) one tensor's values into the store, checking they are finite.
    static func fill(_ destination: UnsafeMutableRawPointer, as stored: ParameterTensor, from file: GGUFFile,
                     _ source: GGUFTensorInfo) throws {
        let format = source.type.weightFormat!
        let rowLength = source.dimensions[0], rows = source.count / rowLength
        let rowBytes = format.rowBytes(rowLength)!
        try file.data(source).withUnsafeBytes { raw in
            var row = [Float](repeating: 0, count: rowLength)
            for r in 0..<rows {
                format.dequantizeRow(raw.baseAddress! + r * rowBytes, into: &row, count: rowLength)
                if let bad = row.firstIndex(where: { !$0.isFinite }) {
                    throw invalid("tensor \(source.name) holds a non-finite value (\(row[bad]) in row \(r))",
                                  hint: "the model diverged or the file is damaged")
                }
                if stored.orientation == .inputMajor {   // f32 [out, in] rows into the [in, out] training layout
                    let out = destination.assumingMemoryBound(to: Float.self)
                    for k in 0..<rowLength { out[k * rows + r] = row[k] }
                } else if stored.format == format {
                    (destination + r * rowBytes).copyMemory(from: raw.baseAddress! + r * rowBytes, byteCount: rowBytes)
                } else {   // a vector or the position table in another type, widened to f32
                    (destination.assumingMemoryBound(to: Float.self) + r * rowLength).update(from: row, count: rowLength)
                }
            }
        }
    }

    static func tokenizer(_ file: GGUFFile) throws -> CharTokenizer {
        let model = try string(file, "tokenizer.ggml.model")
        guard model == "gpt2" else {
            throw invalid("its tokenizer is \"\(model)\", not a gpt2 (byte-level) tokenizer",
                          hint: "Whittle reads character vocabularies written as gpt2 tokenizers")
        }
        guard case .array(.string(let tokens))? = file["tokenizer.ggml.tokens"] else {
            throw invalid("tokenizer.ggml.tokens is missing or not an array of strings")
        }
        var symbols: [Unicode.Scalar] = []
        symbols.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() {
            guard let text = GPT2ByteLevel.text(of: token), text.unicodeScalars.count == 1 else {
                throw invalid("token \(id) \"\(token.prefix(40))\" is not one character in GPT-2's byte-level spelling",
                              hint: "Whittle reads character-level models only; subword vocabularies need another tokenizer")
            }
            symbols.append(text.unicodeScalars.first!)
        }
        do {
            return try CharTokenizer(symbols: symbols)
        } catch let error as WhittleError {
            throw invalid(error.message, hint: error.hint)
        }
    }

    static func string(_ file: GGUFFile, _ key: String) throws -> String {
        guard let value = file[key] else { throw invalid("it has no \(key)", hint: "the file is not a llama.cpp gpt2 model") }
        guard let text = value.stringValue else { throw invalid("\(key) is \(value.typeDescription), not a string") }
        return text
    }

    static func integer(_ file: GGUFFile, _ key: String) throws -> Int {
        guard let value = file[key] else { throw invalid("it has no \(key)", hint: "the file is not a llama.cpp gpt2 model") }
        guard let number = value.intValue else { throw invalid("\(key) is \(value.typeDescription), not an integer") }
        guard (1...ModelConfig.dimensionLimit).contains(number) else {
            throw invalid("\(key) is \(number), outside 1...\(ModelConfig.dimensionLimit)")
        }
        return number
    }

    static func number(_ file: GGUFFile, _ key: String) throws -> Double {
        guard let value = file[key] else { throw invalid("it has no \(key)", hint: "the file is not a llama.cpp gpt2 model") }
        guard let number = value.doubleValue else { throw invalid("\(key) is \(value.typeDescription), not a float") }
        return number
    }

    static func invalid(_ message: String, hint: String = "the file is not a GPT-2 model Whittle can read") -> WhittleError {
        .file("cannot read the GGUF file as a GPT-2 model: \(message)", hint: hint)
    }
}
