// SparseGPT (Frantar & Alistarh 2023, "SparseGPT: Massive Language Models Can Be Accurately Pruned
// in One-Shot"): pruning with the optimal-brain-surgeon weight update. For a layer y = x·Wᵀ with
// calibration Hessian H = Σ xᵀx it shares GPTQ's machinery (`GPTQ.inverseFactor`: damping, U the
// upper Cholesky factor of H⁻¹): columns (inputs) are visited in order for all rows at once; a
// pruned weight's value, divided by U_kk, is the error pushed onto the later columns through row k
// of U, so the kept weights absorb what the pruned ones did on the calibration inputs. Which
// weights go is chosen as it goes ("adaptive mask selection"): unstructured, at the start of each
// block of `blockSize` columns the block's weights with the smallest w² / U_kk² (the OBS saliency)
// are pruned, the target fraction of every block; N:M, when a group of M columns comes up, the
// M − N smallest saliencies of each row among the group's current (already updated) weights. Inputs that never
// fire (H_kk = 0) get H_kk = 1, as in GPTQ. `reference` is the same algorithm without lazy batches
// (every error pushed through the whole rest of the matrix at once), which tests compare with.

/// SparseGPT over fp32 matrices.
public enum SparseGPT {
    public struct Options: Equatable, Sendable {
        /// λ = percentDamping · mean(diag H) is added to H's diagonal (0.01 by default).
        public var percentDamping: Double
        /// Columns per block: mask selection and lazy batch updates (128 by default).
        public var blockSize: Int

        public init(percentDamping: Double = 0.01, blockSize: Int = 128) {
            self.percentDamping = percentDamping
            self.blockSize = blockSize
        }
    }

    /// What to prune: a fraction of every block, or N kept of every M consecutive columns.
    public enum Target: Equatable, Sendable {
        case fraction(Double)
        case nOfM(keep: Int, group: Int)
    }

    /// Prunes `weights` (rows × columns, output-major) in place: pruned weights become exactly 0 and
    /// the kept ones are updated; `kept` (rows × columns) receives the mask. Returns the damping used.
    @discardableResult
    public static func prune(weights: UnsafeMutablePointer<Float>, rows: Int, columns K: Int, hessian: UnsafePointer<Double>,
                             target: Target, options: Options = Options(), lazyBatches: Bool = true,
                             kept: UnsafeMutablePointer<Bool>) throws(GPTQ.Failure) -> Double {
        guard options.blockSize > 0, options.percentDamping >= 0, options.percentDamping.isFinite else {
            throw .invalidOptions("SparseGPT needs a positive block size and a damping ≥ 0")
        }
        if case .nOfM(let keep, let group) = target {
            guard group > 0, keep >= 0, keep <= group, K % group == 0, options.blockSize % group == 0 else {
                throw .invalidOptions("groups of \(group) must tile rows of \(K) columns and blocks of \(options.blockSize)")
            }
        }
        var diagonal = [Double](repeating: 0, count: K)
        for k in 0..<K { diagonal[k] = hessian[k * K + k] == 0 ? 1 : hessian[k * K + k] }
        let u = UnsafeMutablePointer<Float>.allocate(capacity: K * K)
        defer { u.deallocate() }
        let damping = try GPTQ.inverseFactor(hessian, diagonal: diagonal, order: Array(0..<K), K: K,
                                             percent: options.percentDamping, into: u)
        // Column-major working copy: w[k * rows + r] = W[r, k].
        let w = UnsafeMutablePointer<Float>.allocate(capacity: K * rows)
        defer { w.deallocate() }
        for k in 0..<K { for r in 0..<rows { w[k * rows + r] = weights[r * K + k] } }
        let pruned = UnsafeMutablePointer<Bool>.allocate(capacity: K * rows)   // column-major, like w
        defer { pruned.deallocate() }
        pruned.initialize(repeating: false, count: K * rows)
        let batch = lazyBatches ? options.blockSize : K
        let errors = UnsafeMutablePointer<Float>.allocate(capacity: batch * rows)
        defer { errors.deallocate() }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(options.blockSize, 1) * rows)
        defer { scratch.deallocate() }
        let flags = UnsafeMutablePointer<Bool>.allocate(capacity: max(options.blockSize, 1) * rows)
        defer { flags.deallocate() }

        GPTQ.sweepColumns(w: w, rows: rows, K: K, u: u, batch: batch, errors: errors) { k, column, pivot, error in
            switch target {
            case .fraction where k % options.blockSize == 0:
                selectBlock(w: w, rows: rows, start: k, end: min(k + options.blockSize, K), u: u, K: K, target: target,
                            scores: scratch, flags: flags, pruned: pruned)
            case .nOfM(_, let group) where k % group == 0:
                selectBlock(w: w, rows: rows, start: k, end: k + group, u: u, K: K, target: target,
                            scores: scratch, flags: flags, pruned: pruned)
            default: break
            }
            for r in 0..<rows {
                if pruned[k * rows + r] {
                    error[r] = column[r] / pivot
                    column[r] = 0
                } else {
                    error[r] = 0
                }
            }
        }
        for r in 0..<rows {
            for k in 0..<K {
                let isPruned = pruned[k * rows + r]
                kept[r * K + k] = !isPruned
                weights[r * K + k] = isPruned ? 0 : w[k * rows + r]
            }
        }
        return damping
    }

    /// Marks the weights of columns start..<end to prune, from their current values.
    private static func selectBlock(w: UnsafeMutablePointer<Float>, rows: Int, start: Int, end: Int, u: UnsafePointer<Float>,
                                    K: Int, target: Target, scores: UnsafeMutablePointer<Float>,
                                    flags: UnsafeMutablePointer<Bool>, pruned: UnsafeMutablePointer<Bool>) {
        let width = end - start
        // Row-major scores of the block: scores[r * width + j] = w² / U_kk² of column start + j.
        for j in 0..<width {
            let k = start + j, d = u[k * K + k]
            for r in 0..<rows {
                let value = w[k * rows + r]
                scores[r * width + j] = value * value / (d * d)
            }
        }
        switch target {
        case .fraction(let fraction):
            let count = rows * width
            flags.initialize(repeating: true, count: count)
            let cut = PruningSelection.cut(UnsafeBufferPointer(start: scores, count: count), count: Int(Double(count) * fraction))
            var ties = cut?.atThreshold ?? 0
            PruningSelection.apply(cut, scores: UnsafeBufferPointer(start: scores, count: count),
                                   kept: UnsafeMutableBufferPointer(start: flags, count: count), remainingTies: &ties)
        case .nOfM(let keep, let group):
            PruningSelection.nOfM(scores, rows: rows, columns: width, keep: keep, group: group, kept: flags)
        }
        for r in 0..<rows {
            for j in 0..<width where !flags[r * width + j] { pruned[(start + j) * rows + r] = true }
        }
    }
}
