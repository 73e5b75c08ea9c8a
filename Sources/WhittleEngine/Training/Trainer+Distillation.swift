// The distillation part of a training step: per worker, the teacher runs forward on the same windows
// in the same step (its own weights and kernels, an fp32 arena, no dropout), the distillation head
// turns student and teacher logits (and, with `distill_hidden_weight`, final hidden states) into the
// gradient at the student's logits, and the one `GPT.backward` carries it from there.

/// One worker's teacher side: an arena for the teacher's forward pass and the head's scratch.
final class TeacherWorker: @unchecked Sendable {
    let arena: ActivationArena
    /// Two rows of log-probabilities in Double.
    let scratch: UnsafeMutablePointer<Double>
    /// d(loss)/d(final hidden state) of the student, [B·T, C] (empty when the widths differ).
    let hiddenGradient: FloatBuffer
    var terms = DistillationTerms()
    var hiddenSum = 0.0

    init(teacher: ModelWeights, B: Int, T: Int, studentWidth: Int) {
        let d = teacher.dimensions
        arena = ActivationArena(dimensions: d, B: B, T: T)
        scratch = .allocate(capacity: 2 * d.V)
        hiddenGradient = FloatBuffer(count: studentWidth == d.C ? B * T * d.C : 0)
    }

    deinit { scratch.deallocate() }
}

/// The distillation terms of one step, as logged (means over the step's tokens).
public struct DistillationStepTerms: Equatable, Sendable {
    public var crossEntropy: Float
    public var divergence: Float
    public var hiddenCosine: Float?
}

extension Trainer {
    /// One teacher worker per student worker (empty without a teacher).
    static func makeTeacherWorkers(_ teacher: Teacher?, students: [TrainingWorker], config: TrainingConfig) -> [TeacherWorker] {
        guard let teacher else { return [] }
        return students.map {
            TeacherWorker(teacher: teacher.model.weights, B: $0.arena.B, T: config.contextLength, studentWidth: config.embeddingWidth)
        }
    }

    /// Worker `index`'s distillation backward: teacher forward on the loaded windows, the head's
    /// gradient into the student's logits (and final hidden state), then `GPT.backward` from there.
    /// Returns the worker's objective (mean over its tokens). Requires the student's forward with targets.
    func distillationBackward(worker: TrainingWorker, teacherWorker tw: TeacherWorker, teacher: Teacher, lossScale: Float) -> Float {
        let a = worker.arena, N = a.B * a.T, V = a.dimensions.V, C = a.dimensions.C
        tw.arena.tokens.update(from: a.tokens, count: N)
        GPT.forward(weights: teacher.model.weights, arena: tw.arena, withTargets: false)
        let w = config.distillationWeights
        let terms = Distillation.lossAndGradient(logits: a.logits.pointer, probs: a.probsOut.pointer, losses: a.losses.pointer,
                                                 teacher: tw.arena.logits.pointer, targets: a.targets, N: N, V: V,
                                                 weights: w, scale: lossScale, scratch: tw.scratch)
        var objective = terms.objective(w)
        var hidden: UnsafePointer<Float>?
        if config.distillHiddenWeight > 0 {
            tw.hiddenGradient.zero()
            let sum = Distillation.cosineLossAndGradient(
                gradient: tw.hiddenGradient.pointer, student: a.residuals[a.dimensions.L].pointer,
                teacher: tw.arena.residuals[tw.arena.dimensions.L].pointer, N: N, C: C,
                weight: config.distillHiddenWeight, scale: lossScale)
            tw.hiddenSum += sum
            objective += Double(config.distillHiddenWeight) * sum
            hidden = UnsafePointer(tw.hiddenGradient.pointer)
        }
        tw.terms.divergence += terms.divergence
        tw.terms.crossEntropy += terms.crossEntropy
        GPT.backward(weights: weights, gradients: worker.gradients.pointer, arena: a, lossScale: lossScale,
                     lossHead: .given(hidden: hidden))
        return Float(objective / Double(N))
    }

    /// Clears the per-step sums of the terms (before a step's first micro-batch).
    func resetDistillationTerms() {
        for tw in teacherWorkers {
            tw.terms = DistillationTerms()
            tw.hiddenSum = 0
        }
    }

    /// The step's distillation terms over every worker's tokens of its `microSteps` micro-batches (nil without a teacher).
    func distillationTerms(microSteps: Int) -> DistillationStepTerms? {
        guard teacher != nil, !teacherWorkers.isEmpty else { return nil }
        var ce = 0.0, kl = 0.0, hidden = 0.0, tokens = 0
        for (student, tw) in zip(workers, teacherWorkers) {
            ce += tw.terms.crossEntropy
            kl += tw.terms.divergence
            hidden += tw.hiddenSum
            tokens += student.arena.B * student.arena.T * microSteps
        }
        let n = Double(tokens)
        return DistillationStepTerms(crossEntropy: Float(ce / n), divergence: Float(kl / n),
                                     hiddenCosine: config.distillHiddenWeight > 0 ? Float(hidden / n) : nil)
    }

    /// Refuses live changes a distillation run cannot make: another teacher, or the hidden term without matching widths.
    func checkDistillationChange(_ candidate: TrainingConfig) throws {
        guard candidate.teacher == config.teacher else {
            throw WhittleError.config("the teacher cannot change during a run (it is \(config.teacher))",
                                      hint: "start a new run with teacher = \"\(candidate.teacher)\"")
        }
        if let teacher, candidate.distillHiddenWeight > 0, teacher.model.config.embeddingWidth != model.config.embeddingWidth {
            throw WhittleError.config("distill_hidden_weight needs the student's n_embd (\(model.config.embeddingWidth)) to equal the teacher's (\(teacher.model.config.embeddingWidth))",
                                      hint: "keep distill_hidden_weight = 0 for this student")
        }
    }
}
