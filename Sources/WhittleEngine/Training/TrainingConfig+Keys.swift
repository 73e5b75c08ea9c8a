// The single table of training-configuration keys. TOML loading, `--set key=value` overrides,
// the help listing, serialisation for run directories and live edits all read this table, so
// adding a setting means adding a field to `TrainingConfig` and one line here. Names follow
// nanoGPT's `train.py` globals where nanoGPT has the setting.

extension TrainingConfig {
    /// Every key a config file or `--set` may use, in the order they are listed and written.
    public static let keys: [ConfigKey] = [
        .int("n_layer", .model, \.layerCount, "number of transformer blocks"),
        .int("n_head", .model, \.headCount, "attention heads per block (must divide n_embd)"),
        .int("n_embd", .model, \.embeddingWidth, "width of the residual stream"),
        .int("block_size", .model, \.contextLength, "context length in tokens"),
        .bool("bias", .model, \.hasBias, "biases in linear layers and LayerNorms"),
        .float("dropout", .model, \.dropout, "dropout probability in [0, 1); 0 for small CPU runs"),

        .string("init_from", .model, \.initFrom, "scratch, or a model directory whose weights and tokenizer start the run"),
        .string("dataset", .data, \.datasetPath, "training text; a relative path is relative to the working directory"),
        .float("val_fraction", .data, \.validationFraction, "fraction of the corpus (its end) held out for validation"),

        .int("batch_size", .optimisation, \.batchSize, "sequences per micro-batch"),
        .int("gradient_accumulation_steps", .optimisation, \.gradientAccumulationSteps, "micro-batches per optimizer step"),
        .int("max_iters", .optimisation, \.maxIterations, "optimizer steps in the run"),
        .float("learning_rate", .optimisation, \.learningRate, "peak learning rate, reached after warmup"),
        .float("min_lr", .optimisation, \.minLearningRate, "learning rate at the end of the decay"),
        .int("warmup_iters", .optimisation, \.warmupIterations, "steps of linear warmup from 0 to learning_rate"),
        .optionalInt("lr_decay_iters", .optimisation, \.decayIterations, "step at which decay reaches min_lr (unset: max_iters)"),
        .choice("schedule", .optimisation, \.schedule, "learning-rate decay after warmup"),
        .choice("optimizer", .optimisation, \.optimizer, "update rule (torch SGD/Adam/AdamW semantics; lion: Chen et al.; adafactor: factored v, no m; adamw8bit: block-wise 8-bit m, v); a live change keeps state only adam↔adamw, momentum↔nesterov"),
        .float("momentum", .optimisation, \.momentum, "momentum μ in [0, 1) for momentum and nesterov (buf = μ·buf + g)"),
        .float("beta1", .optimisation, \.beta1, "first-moment decay in [0, 1): adam, adamw, adamw8bit; lion's interpolation β1"),
        .float("beta2", .optimisation, \.beta2, "second-moment decay in [0, 1): adam, adamw, adamw8bit; lion's momentum decay β2 (unused by adafactor)"),
        .float("eps", .optimisation, \.epsilon, "denominator epsilon for adam, adamw, adamw8bit (adafactor uses ε1 = 1e-30)"),
        .float("weight_decay", .optimisation, \.weightDecay, "weight decay on matrices only: decoupled p·(1 − lr·wd) for adamw, adamw8bit, lion, adafactor; L2 g + wd·p for sgd, momentum, nesterov, adam"),
        .float("grad_clip", .optimisation, \.gradientClip, "clip the global gradient norm to this value (0 disables)"),

        .int("eval_interval", .evaluation, \.evalInterval, "steps between validation-loss estimates"),
        .int("eval_iters", .evaluation, \.evalIterations, "batches averaged per loss estimate"),
        .int("early_stopping_patience", .evaluation, \.earlyStoppingPatience,
             "stop after this many evaluations without a new best validation loss (0: never)"),
        .int("checkpoint_interval", .evaluation, \.checkpointInterval, "steps between checkpoints (0: only at the end)"),
        .int("seed", .evaluation, \.seed, "random seed for initialisation, data order and dropout"),

        .int("workers", .execution, \.workers, "data-parallel worker threads; each takes a slice of the batch"),
        .int("blas_threads", .execution, \.blasThreads, "OpenBLAS threads per matmul call"),
        .string("checkpointing", .execution, \.checkpointing,
                "activation checkpointing: false, true (recompute every block in backward) or every-K"),
        .choice("precision", .execution, \.precision,
                "storage of activations and matmul inputs (master weights, gradients, optimizer state stay fp32); bf16 uses the CPU's AVX512-BF16 dot products when present, else widens to fp32"),
        .bool("loss_scaling", .execution, \.lossScaling,
              "fp16 only: dynamic loss scale (start 2^16, x2 after 2000 clean steps, x0.5 and skip the step on inf/NaN)"),

        .string("teacher", .distillation, \.teacher,
                "none, or a model, run or variant directory (or .gguf) whose logits the student learns from; same tokenizer as the data"),
        .float("distill_alpha", .distillation, \.distillAlpha, "weight in [0, 1] of T²·KL; cross-entropy gets 1 − alpha"),
        .float("distill_temperature", .distillation, \.distillTemperature, "softmax temperature T > 0 of teacher and student in the KL term"),
        .choice("distill_loss", .distillation, \.distillLoss, "forward_kl = KL(teacher ‖ student) (Hinton), reverse_kl = KL(student ‖ teacher) (MiniLLM)"),
        .float("distill_hidden_weight", .distillation, \.distillHiddenWeight,
               "weight ≥ 0 of 1 − cos(student, teacher) on the final hidden state (needs n_embd equal to the teacher's; 0: off)"),
        .choice("student_init", .distillation, \.studentInit,
                "scratch, or teacher_layers: embeddings, final LayerNorm and every k-th block copied from an fp32 teacher of the same n_embd and n_head"),
    ]

    /// Key names, in table order.
    public static var keyNames: [String] { keys.map(\.name) }

    /// The key called `name`, or nil.
    public static func key(named name: String) -> ConfigKey? {
        keys.first { $0.name == name }
    }

    /// The known key `name` is most likely a typo or a common synonym of, or nil when none is close.
    public static func suggestedKey(for name: String) -> String? {
        synonyms[name.lowercased()] ?? closestMatch(to: name, among: keyNames)
    }

    /// Names people reach for from other trainers, used only for "did you mean" hints.
    static let synonyms = [
        "lr": "learning_rate", "n_positions": "block_size", "n_ctx": "block_size", "context_length": "block_size",
        "warmup": "warmup_iters", "warmup_steps": "warmup_iters", "iters": "max_iters", "max_steps": "max_iters",
        "steps": "max_iters", "epsilon": "eps", "adam_eps": "eps", "grad_accum": "gradient_accumulation_steps",
        "clip": "grad_clip", "max_grad_norm": "grad_clip", "lr_schedule": "schedule", "data": "dataset",
        "optim": "optimizer", "opt": "optimizer", "mu": "momentum", "dtype": "precision", "amp": "precision",
        "mixed_precision": "precision", "grad_scaler": "loss_scaling", "loss_scale": "loss_scaling",
    ]

    /// The key called `name`, or an error naming it, `source`, and the closest known key.
    static func requireKey(_ name: String, source: String) throws(WhittleError) -> ConfigKey {
        if let key = key(named: name) { return key }
        let hint = suggestedKey(for: name).map { "did you mean `\($0)`?" }
            ?? "known keys: " + keyNames.joined(separator: ", ")
        throw WhittleError.config("unknown key `\(name)` in \(source)", hint: hint)
    }

    /// The value of the key called `name` (for the TUI and for logs).
    /// - Throws: `WhittleError.config` if no such key exists.
    public func value(forKey name: String) throws(WhittleError) -> ConfigValue {
        try Self.requireKey(name, source: "the training settings").value(in: self)
    }

    /// Sets the key called `name` after checking the value's type; does not validate ranges.
    /// - Throws: `WhittleError.config` for an unknown key or a value of the wrong type.
    public mutating func setValue(_ value: ConfigValue, forKey name: String, source: String) throws(WhittleError) {
        try Self.requireKey(name, source: source).set(value, in: &self, source: source)
    }

    /// This config with the key `name` set from `text` as typed, checked by the key's type and by
    /// `validate()` against the rest of the config. `--set`, live edits in a session, the workbench's
    /// panel and its what-if preview all check a value this way, so they accept exactly the same
    /// values with the same messages.
    /// - Throws: `WhittleError.config` naming the key (or the key it conflicts with) and what is allowed.
    public func setting(_ name: String, to text: String, source: String) throws -> TrainingConfig {
        let key = try Self.requireKey(name, source: source)
        var candidate = self
        try key.set(key.parse(text, source: source), in: &candidate, source: source)
        try candidate.validate()
        return candidate
    }

    /// A plain-text table of every key with its type, default and description, grouped by section.
    public static func keyListing(width: Int = 80) -> String {
        let defaults = TrainingConfig()
        var lines: [String] = []
        for group in ConfigKey.Group.allCases {
            lines.append(group.title + ":")
            for key in keys where key.group == group {
                // "  name  type  [default: v]", then the summary wrapped under it: no line wider than `width`.
                lines += wrap("\(key.name)  \(key.type.description)  [default: \(key.value(in: defaults))]", width: width, indent: 2)
                lines += wrap(key.summary, width: width, indent: 6)
            }
        }
        return lines.joined(separator: "\n")
    }

    /// `text` broken at spaces into lines of at most `width` columns (a longer word stands alone), each indented.
    static func wrap(_ text: String, width: Int, indent: Int) -> [String] {
        let pad = String(repeating: " ", count: indent)
        var lines: [String] = [], current = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false) {
            if !current.isEmpty, pad.count + current.count + 1 + word.count > width {
                lines.append(pad + current)
                current = String(word)
            } else {
                current += current.isEmpty ? String(word) : " " + word
            }
        }
        if !current.isEmpty { lines.append(pad + current) }
        return lines
    }
}

// MARK: - Typed table entries

extension ConfigKey {
    typealias Path<Value> = WritableKeyPath<TrainingConfig, Value> & Sendable

    static func int<I: FixedWidthInteger & Sendable>(
        _ name: String, _ group: Group, _ path: Path<I>, _ summary: String
    ) -> ConfigKey {
        ConfigKey(name: name, type: .int, group: group, summary: summary,
                  read: { .int(Int(clamping: $0[keyPath: path])) },
                  write: { config, value, source throws(WhittleError) in
                      guard case .int(let integer) = value else { return }
                      guard let converted = I(exactly: integer) else {
                          throw WhittleError.config("`\(name)` in \(source) must be an integer in \(I.min)...\(I.max) (got \(integer))")
                      }
                      config[keyPath: path] = converted
                  })
    }

    static func optionalInt(_ name: String, _ group: Group, _ path: Path<Int?>, _ summary: String) -> ConfigKey {
        ConfigKey(name: name, type: .int, group: group, summary: summary, isOptional: true,
                  read: { $0[keyPath: path].map(ConfigValue.int) ?? .unset },
                  write: { config, value, _ in
                      if case .int(let integer) = value { config[keyPath: path] = integer } else { config[keyPath: path] = nil }
                  })
    }

    static func float<F: BinaryFloatingPoint & Sendable>(
        _ name: String, _ group: Group, _ path: Path<F>, _ summary: String
    ) -> ConfigKey {
        ConfigKey(name: name, type: .float, group: group, summary: summary,
                  // Through the shortest decimal form, so Float 0.001 reads as 0.001, not 0.0010000000474974513.
                  read: { config in
                      let value = config[keyPath: path]
                      return .float(Double(String(describing: value)) ?? Double(value))
                  },
                  write: { config, value, source throws(WhittleError) in
                      guard case .float(let number) = value else { return }
                      let converted = F(number)
                      guard converted.isFinite || !number.isFinite else {
                          throw WhittleError.config(
                              "`\(name)` in \(source) is too large for a \(F.significandBitCount + F.exponentBitCount + 1)-bit float (got \(number); largest \(F.greatestFiniteMagnitude))")
                      }
                      config[keyPath: path] = converted
                  })
    }

    static func bool(_ name: String, _ group: Group, _ path: Path<Bool>, _ summary: String) -> ConfigKey {
        ConfigKey(name: name, type: .bool, group: group, summary: summary,
                  read: { .bool($0[keyPath: path]) },
                  write: { config, value, _ in
                      if case .bool(let flag) = value { config[keyPath: path] = flag }
                  })
    }

    static func string(_ name: String, _ group: Group, _ path: Path<String>, _ summary: String) -> ConfigKey {
        ConfigKey(name: name, type: .string, group: group, summary: summary,
                  read: { .string($0[keyPath: path]) },
                  write: { config, value, _ in
                      if case .string(let text) = value { config[keyPath: path] = text }
                  })
    }

    static func choice<E: RawRepresentable & CaseIterable & Sendable>(
        _ name: String, _ group: Group, _ path: Path<E>, _ summary: String
    ) -> ConfigKey where E.RawValue == String {
        ConfigKey(name: name, type: .choice(E.allCases.map(\.rawValue)), group: group, summary: summary,
                  read: { .string($0[keyPath: path].rawValue) },
                  write: { config, value, _ in
                      if case .string(let text) = value, let choice = E(rawValue: text) { config[keyPath: path] = choice }
                  })
    }
}
