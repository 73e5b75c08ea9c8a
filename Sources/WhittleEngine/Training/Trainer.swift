// The training loop for one run: sample a batch, forward, backward, clip, step the optimizer
// (`config.optimizer`, state in `optimizerState`); evaluate now and then. Synchronous and silent: the caller (CLI or TUI session) drives it step by step.

import Foundation

/// A training run in memory: model, optimizer state, data cursor (generators) and history.
public final class Trainer: @unchecked Sendable {
    public private(set) var config: TrainingConfig
    public let model: GPTModel
    public let tokenizer: CharTokenizer
    public let data: TokenSplits
    /// Completed optimizer steps.
    public internal(set) var step = 0
    public internal(set) var history: [StepRecord] = []

    /// Summed gradients of the step (worker 0 accumulates here directly).
    let gradients: FloatBuffer
    /// bf16/fp16 runs: the parameters rounded to `config.precision` before each forward (the matmul copy).
    private(set) var halfParameters: HalfBuffer?
    /// What forward and backward read: the fp32 parameters, with the 16-bit copy's matrices in bf16/fp16.
    private(set) var weights: ModelWeights
    /// fp16 runs with `loss_scaling`: the dynamic loss scaler; nil otherwise.
    public internal(set) var lossScaler: LossScaler?
    /// The optimizer's state (its kind is `config.optimizer`); replaced when the optimizer changes.
    public internal(set) var optimizerState: OptimizerState
    /// Pruned weights kept at exactly zero (a recovery run from a pruned model), or nil (`Trainer+Mask.swift`).
    public internal(set) var mask: SparsityMask?
    /// Messages about the run's optimizer state (switches, resumes with another optimizer), oldest first.
    public internal(set) var notes: [String] = []
    /// Data-parallel workers, each with its own activations and gradients for a slice of the batch.
    private(set) var workers: [TrainingWorker]
    /// Start offsets of the current batch's windows, drawn in order so any worker count sees the same data.
    var batchStarts: [Int]
    /// Draws training batch positions; its state is the data cursor.
    var dataGenerator: RandomGenerator
    /// Draws the batches of periodic loss estimates, separately so evaluation never shifts training data.
    var evaluationGenerator: RandomGenerator
    /// Distillation runs: the teacher, and its side of every worker (`Trainer+Distillation.swift`).
    public let teacher: Teacher?
    private(set) var teacherWorkers: [TeacherWorker]

    /// Starts a new run: validates the config, initialises the model from `config.seed`, or copies
    /// `initialModel`'s weights (its shape must be the config's). Blocks take the per-block shapes of
    /// `initialModel`, or `layerShapes` (a resumed run's, from its checkpoint), when the model has them.
    /// A `teacher` (loaded by `Teacher.load` for `config.teacher`) makes it a distillation run.
    public init(config: TrainingConfig, tokenizer: CharTokenizer, data: TokenSplits, initialModel: GPTModel? = nil,
                layerShapes: [LayerShape]? = nil, mask: SparsityMask? = nil, teacher: Teacher? = nil) throws {
        try config.validate()
        try TokenSplits.checkLongEnough(data, contextLength: config.contextLength)
        var initGenerator = RandomGenerator(seed: config.seed)
        var shape = config.modelConfig(vocabularySize: tokenizer.vocabularySize)
        if let shapes = initialModel?.config.layerShapes ?? layerShapes {
            shape.setLayerShapes(shapes)
            try shape.validate()
        }
        let model = try GPTModel.initialized(config: shape, generator: &initGenerator)
        if let initialModel {
            guard initialModel.config == shape else {
                throw WhittleError.config("the initial model's shape differs from the run's (n_layer, n_head, n_embd, block_size, bias, vocabulary)",
                                          hint: "leave the model keys out of the config when init_from names a model")
            }
            model.parameters.copy(from: initialModel.parameters)
        }
        self.config = config
        self.model = model
        self.tokenizer = tokenizer
        self.data = data
        gradients = FloatBuffer(count: model.parameterCount)
        optimizerState = OptimizerState(kind: config.optimizer, layout: model.layout)
        workers = Self.makeWorkers(config, dimensions: model.config.dimensions, gradients: gradients)
        precondition((teacher != nil) == config.isDistillation, "a distillation run has its teacher loaded")
        self.teacher = teacher
        teacherWorkers = Self.makeTeacherWorkers(teacher, students: workers, config: config)
        halfParameters = config.precision.isHalf ? HalfBuffer(count: model.parameterCount) : nil
        weights = Self.weights(of: model, halfCopy: halfParameters, precision: config.precision)
        lossScaler = Self.usesLossScaler(config) ? LossScaler() : nil
        batchStarts = Array(repeating: 0, count: config.batchSize)
        dataGenerator = RandomGenerator(seed: config.seed &+ 1)
        evaluationGenerator = RandomGenerator(seed: config.seed &+ 2)
        BLAS.setThreadCount(config.blasThreads)
        try keep(mask)
    }

    /// Whether the run has reached `max_iters`.
    public var isFinished: Bool { step >= config.maxIterations || stoppedEarly }

    /// Runs one optimizer step (with gradient accumulation) and, on evaluation steps, a loss estimate.
    /// Throws `.numeric` without touching the weights if the loss or a gradient is not finite, except
    /// under fp16 loss scaling, where such a step is skipped and the scale halved (PyTorch's GradScaler).
    @discardableResult
    public func trainStep() throws -> StepRecord {
        let start = DispatchTime.now().uptimeNanoseconds
        let micro = config.gradientAccumulationSteps
        let scale = lossScaler?.scale ?? 1
        gradients.zero()   // the other workers' buffers were zeroed by the last reduction
        roundHalfParameters()
        for worker in workers { worker.arena.flushedGradients = 0 }
        resetDistillationTerms()
        var lossSum: Double = 0
        for microStep in 0..<micro {
            drawBatch(from: data.train, generator: &dataGenerator)
            setDropout(microStep: microStep)
            lossSum += runWorkers(on: data.train, backward: true, lossScale: scale / Float(micro))
        }
        setDropout(microStep: nil)
        var unclippedNorm = reduceWorkerGradients()
        if let mask { unclippedNorm = maskGradients(mask) }
        let loss = Float(lossSum / Double(micro))
        let rate = LearningRateSchedule(config).rate(at: step)
        var record = StepRecord(step: step + 1, loss: loss, learningRate: rate, gradientNorm: 0, milliseconds: 0,
                                tokens: micro * config.batchSize * config.contextLength)
        if let terms = distillationTerms(microSteps: micro) {
            record.crossEntropy = terms.crossEntropy
            record.divergence = terms.divergence
            record.hiddenCosine = terms.hiddenCosine
        }
        if config.precision.isHalf { record.flushedGradients = workers.reduce(0) { $0 + $1.arena.flushedGradients } }
        if var scaler = lossScaler {
            record.lossScale = scale
            let finite = loss.isFinite && unclippedNorm.isFinite
            scaler.update(gradientsFinite: finite)
            lossScaler = scaler
            if !finite {
                // Skipped: the weights and optimizer state stay as they were; the schedule moves on.
                record.skipped = true
                record.gradientNorm = 0   // not finite; logs say `skipped` instead
                return finish(&record, start: start)
            }
            unclippedNorm /= Double(scale)
        }
        // Unscaling (fp16) and clipping share one pass over the gradients.
        let norm = GradientClipping.clip(gradients.pointer, count: gradients.count, norm: unclippedNorm,
                                         maxNorm: config.gradientClip, unscale: 1 / scale)
        guard loss.isFinite, norm.isFinite else {
            let culprit = model.firstNonFiniteTensor(in: gradients).map { " (first non-finite gradient: \($0))" } ?? ""
            throw WhittleError(.numeric, "step \(step + 1): the loss or gradient is not finite (loss \(loss), gradient norm \(norm))\(culprit); the weights were not updated",
                               hint: "lower learning_rate or enable grad_clip, then resume from the last checkpoint")
        }
        optimizerState.update(parameters: model.parameters.pointer, gradients: gradients.pointer,
                              hyperparameters: config.optimizerHyperparameters(learningRate: rate),
                              threads: config.workers)
        if let mask { holdPruned(mask) }
        record.gradientNorm = Float(norm)
        return finish(&record, start: start)
    }

    /// Counts the step, times it, runs the periodic evaluation when due and appends the record.
    private func finish(_ record: inout StepRecord, start: UInt64) -> StepRecord {
        step += 1
        record.milliseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        if step % config.evalInterval == 0 || step == config.maxIterations {
            let estimate = estimateLoss()
            record.evaluation = estimate
            record.warning = overfittingWarning(after: estimate)
        }
        history.append(record)
        return record
    }

    /// The weights a run at `precision` reads: `model`'s fp32 parameters and, in bf16/fp16, `halfCopy`.
    static func weights(of model: GPTModel, halfCopy: HalfBuffer?, precision: Precision) -> ModelWeights {
        ModelWeights(layout: model.layout, parameters: model.parameters.pointer,
                     halfCopy: halfCopy.map { UnsafePointer($0.pointer) }, precision: precision)
    }

    /// Whether a run of `config` uses the dynamic loss scaler (fp16 with `loss_scaling`).
    public static func usesLossScaler(_ config: TrainingConfig) -> Bool { config.precision == .fp16 && config.lossScaling }

    /// Refreshes the 16-bit copy of the weights that bf16/fp16 matmuls read (nothing in fp32).
    func roundHalfParameters() {
        guard let halfParameters else { return }
        let count = model.parameterCount, parts = config.workers
        let source = model.parameters.pointer, target = halfParameters.pointer, format = config.precision
        Parallel.forEach(parts) { part in
            let range = Parallel.range(part, of: parts, total: count)
            HalfConversion.round(source + range.lowerBound, to: target + range.lowerBound, count: range.count, format: format)
        }
    }

    /// Mean loss over `eval_iters` random batches of each split (nanoGPT's estimate_loss).
    public func estimateLoss() -> LossEstimate {
        roundHalfParameters()
        func mean(_ split: [Int32]) -> Float {
            var total: Double = 0
            for _ in 0..<config.evalIterations {
                drawBatch(from: split, generator: &evaluationGenerator)
                total += runWorkers(on: split, backward: false, lossScale: 1)
            }
            return Float(total / Double(config.evalIterations))
        }
        return LossEstimate(train: mean(data.train), validation: mean(data.validation))
    }

    /// Turns dropout on for a training micro-step (mask seed from run seed, step and micro-step), or off.
    func setDropout(microStep: Int?) {
        for worker in workers {
            guard let microStep, config.dropout > 0 else {
                worker.arena.dropout = nil
                continue
            }
            let seed = config.seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(step) &* 0x1_0000_0001 &+ UInt64(microStep)
            worker.arena.dropout = DropoutSettings(probability: config.dropout, seed: seed, firstSequence: worker.firstWindow)
        }
    }

    /// Draws the start of every window of the next batch (nanoGPT's get_batch: uniform in 0..<n−T).
    func drawBatch(from tokens: [Int32], generator: inout RandomGenerator) {
        for b in 0..<batchStarts.count { batchStarts[b] = generator.nextInt(below: tokens.count - config.contextLength) }
    }

    /// Every worker runs forward (and backward) on its slice of the drawn batch; returns the batch's mean loss.
    func runWorkers(on tokens: [Int32], backward: Bool, lossScale: Float) -> Double {
        let batchSize = Float(config.batchSize)
        tokens.withUnsafeBufferPointer { source in
            Parallel.forEach(workers.count) { index in
                let worker = workers[index]
                worker.load(source, starts: batchStarts)
                worker.loss = GPT.forward(weights: weights, arena: worker.arena, withTargets: true)!
                if backward, let teacher {
                    worker.loss = distillationBackward(worker: worker, teacherWorker: teacherWorkers[index], teacher: teacher,
                                                       lossScale: lossScale * Float(worker.arena.B) / batchSize)
                } else if backward {
                    GPT.backward(weights: weights, gradients: worker.gradients.pointer, arena: worker.arena,
                                 lossScale: lossScale * Float(worker.arena.B) / batchSize)
                }
            }
        }
        return workers.reduce(0) { $0 + Double($1.loss) * Double($1.arena.B) } / Double(config.batchSize)
    }

    /// gradients = g₀ + g₁ + … in worker order, in parallel over disjoint ranges (same bits every run).
    /// gradients = g₀ + g₁ + … in worker order, in parallel over disjoint ranges (same bits every run);
    /// the other workers' buffers are zeroed in the same pass, and the global L2 norm of the sum is
    /// accumulated there too (per range in Double, ranges added in order). Returns that norm.
    func reduceWorkerGradients() -> Double {
        let count = gradients.count
        guard workers.count > 1 else { return GradientClipping.globalNorm(gradients.pointer, count: count) }
        let parts = workers.count
        let total = gradients.pointer
        var squares = [Double](repeating: 0, count: parts)
        squares.withUnsafeMutableBufferPointer { sums in
            let sums = sums.baseAddress!
            Parallel.forEach(parts) { part in
                let range = Parallel.range(part, of: parts, total: count)
                for worker in workers.dropFirst() {
                    let g = worker.gradients.pointer
                    for i in range {
                        total[i] += g[i]
                        g[i] = 0
                    }
                }
                sums[part] = GradientClipping.sumOfSquares(total + range.lowerBound, count: range.count)
            }
        }
        return squares.reduce(0, +).squareRoot()
    }

    /// Changes a hyperparameter between steps (live edits); the new config is validated first.
    /// Changing `optimizer` replaces the optimizer state (see `OptimizerKind.inheritsState(from:)`:
    /// Adam ↔ AdamW and momentum ↔ Nesterov keep it, every other switch starts fresh); the returned
    /// message says which, and is appended to `notes`. Nil when the optimizer did not change.
    @discardableResult
    public func update(_ change: (inout TrainingConfig) -> Void) throws -> String? {
        var candidate = config
        change(&candidate)
        try candidate.validate()
        var candidateShape = candidate.modelConfig(vocabularySize: tokenizer.vocabularySize)
        candidateShape.setLayerShapes(model.config.layers)
        guard candidateShape == model.config else {
            throw WhittleError.config("the model shape (n_layer, n_head, n_embd, block_size, bias) cannot change during a run",
                                      hint: "start a new run, or init_from this run's checkpoint with the new shape")
        }
        try checkDistillationChange(candidate)
        let note = candidate.optimizer == config.optimizer ? nil : switchOptimizer(to: candidate.optimizer)
        // Batch size, workers, checkpointing and dropout decide the activation arenas: rebuild them here,
        // at a step boundary (the weights, optimizer state and data cursor carry on unchanged).
        let arenasChange = candidate.batchSize != config.batchSize || candidate.workers != config.workers
            || candidate.checkpointEvery != config.checkpointEvery || (candidate.dropout > 0) != (config.dropout > 0)
            || candidate.precision != config.precision
        if arenasChange {
            workers = Self.makeWorkers(candidate, dimensions: model.config.dimensions, gradients: gradients)
            teacherWorkers = Self.makeTeacherWorkers(teacher, students: workers, config: candidate)
            batchStarts = Array(repeating: 0, count: candidate.batchSize)
        }
        if candidate.precision.isHalf != config.precision.isHalf {
            halfParameters = candidate.precision.isHalf ? HalfBuffer(count: model.parameterCount) : nil
        }
        if candidate.precision != config.precision {
            weights = Self.weights(of: model, halfCopy: halfParameters, precision: candidate.precision)
        }
        // The scaler starts afresh when fp16 scaling is switched on, and is dropped when it is switched off.
        if Self.usesLossScaler(candidate) != Self.usesLossScaler(config) {
            lossScaler = Self.usesLossScaler(candidate) ? LossScaler() : nil
        }
        if candidate.blasThreads != config.blasThreads { BLAS.setThreadCount(candidate.blasThreads) }
        config = candidate
        return note
    }

    /// The data-parallel workers (activation arenas and gradient buffers) a config asks for.
    static func makeWorkers(_ config: TrainingConfig, dimensions: GPTDimensions, gradients: FloatBuffer) -> [TrainingWorker] {
        TrainingWorker.split(batchSize: config.batchSize, count: config.workers, T: config.contextLength,
                             dimensions: dimensions, sharedGradients: gradients, supportsDropout: config.dropout > 0,
                             checkpointEvery: config.checkpointEvery ?? 0, precision: config.precision)
    }

    /// Replaces the optimizer state with `kind`'s (kept or fresh); returns and records what happened.
    @discardableResult
    func switchOptimizer(to kind: OptimizerKind) -> String {
        let old = optimizerState.kind
        optimizerState = optimizerState.switched(to: kind).state
        let note = "step \(step): " + OptimizerState.switchDescription(from: old, to: kind, layout: model.layout)
        notes.append(note)
        return note
    }
}

/// One data-parallel worker: an activation arena for its slice of the batch and a gradient buffer.
final class TrainingWorker: @unchecked Sendable {
    let arena: ActivationArena
    let gradients: FloatBuffer
    /// Index of this worker's first window in the batch.
    let firstWindow: Int
    var loss: Float = 0

    init(arena: ActivationArena, gradients: FloatBuffer, firstWindow: Int) {
        self.arena = arena
        self.gradients = gradients
        self.firstWindow = firstWindow
    }

    /// Splits `batchSize` windows over `count` workers (the first ones take one more when uneven);
    /// worker 0 accumulates straight into `sharedGradients`.
    static func split(batchSize: Int, count: Int, T: Int, dimensions: GPTDimensions,
                      sharedGradients: FloatBuffer, supportsDropout: Bool, checkpointEvery: Int,
                      precision: Precision) -> [TrainingWorker] {
        var first = 0
        return (0..<count).map { index in
            let size = Parallel.range(index, of: count, total: batchSize).count
            defer { first += size }
            return TrainingWorker(arena: ActivationArena(dimensions: dimensions, B: size, T: T,
                                                         supportsDropout: supportsDropout,
                                                         checkpointEvery: checkpointEvery, precision: precision),
                                  gradients: index == 0 ? sharedGradients : FloatBuffer(count: sharedGradients.count),
                                  firstWindow: first)
        }
    }

    /// Copies this worker's windows (T tokens and their T next tokens) into the arena.
    func load(_ source: UnsafeBufferPointer<Int32>, starts: [Int]) {
        let B = arena.B, T = arena.T
        for b in 0..<B {
            let start = starts[firstWindow + b]
            for t in 0..<T {
                arena.tokens[b * T + t] = source[start + t]
                arena.targets[b * T + t] = source[start + t + 1]
            }
        }
    }
}
