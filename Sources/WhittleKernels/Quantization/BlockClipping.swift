// AWQ's weight clipping (Lin et al. 2023, and the authors' `auto_clip`) for GGUF blocks: each 32-weight
// block of a row may store the type's reference grid of its weights clipped to ±r·max|w| for a ratio
// r on a grid from 1 down to 0.525; clipping trades a larger error on the block's largest weights for
// a finer grid for all the others. The choice is scored by the layer's output error on the calibration
// inputs, eᵀ·H·e for the row's rounding error e (original weights minus stored values) and H = Σ xᵀx:
// starting from round-to-nearest (r = 1 everywhere), the blocks are visited in order and each takes the
// ratio that lowers the row's whole error most with the other blocks' errors held (the cross terms
// between blocks included), so a row never costs more than round-to-nearest's.

/// Per-block clipping search by output error.
public enum BlockClipping {
    /// Clip ratios tried, the reference (1) first: 1, 0.975, …, 0.525.
    public static let ratios: [Float] = (0..<20).map { 1 - Float($0) * 0.025 }

    /// Quantizes a row of `count` values (whole blocks) into `row`, each block on the clipped reference grid
    /// with the least output error; `h` is the layer's count × count Hessian (row-major, symmetric).
    public static func quantizeRow(_ format: WeightFormat, _ x: UnsafePointer<Float>, hessian h: UnsafePointer<Float>,
                                   into row: UnsafeMutableRawPointer, count K: Int) {
        precondition(BlockGrid.supports(format) && K % BlockGrid.size == 0, "rows hold whole GGUF blocks of 32")
        let n = BlockGrid.size, blocks = K / n
        var grids = (0..<blocks).map { BlockGrid.reference(format, x + $0 * n) }
        var error = [Float](repeating: 0, count: K), product = [Double](repeating: 0, count: K)
        for b in 0..<blocks { blockError(grids[b], x + b * n, into: &error, at: b * n) }
        // product = H·e, kept current as blocks change.
        for i in 0..<K {
            var sum: Double = 0
            for j in 0..<K { sum += Double(h[i * K + j]) * Double(error[j]) }
            product[i] = sum
        }
        var candidate = [Float](repeating: 0, count: n), clipped = [Float](repeating: 0, count: n)
        for b in 0..<blocks {
            let offset = b * n, block = x + offset
            var amax: Float = 0
            for i in 0..<n { amax = max(amax, abs(block[i])) }
            guard amax > 0 else { continue }
            // With the other blocks' errors held, the row's error changes by f(e') − f(e), where
            // f(e') = e'ᵀ·H_bb·e' + 2·e'ᵀ·g and g = (H·e)_b − H_bb·e_b, the other blocks' part.
            var g = [Double](repeating: 0, count: n)
            for i in 0..<n {
                var own: Double = 0
                for j in 0..<n { own += Double(h[(offset + i) * K + offset + j]) * Double(error[offset + j]) }
                g[i] = product[offset + i] - own
            }
            func cost(_ e: [Float]) -> Double {
                var total: Double = 0
                for i in 0..<n {
                    var row: Double = 0
                    for j in 0..<n { row += Double(h[(offset + i) * K + offset + j]) * Double(e[j]) }
                    total += Double(e[i]) * (row + 2 * g[i])
                }
                return total
            }
            let current = Array(error[offset..<(offset + n)])
            var bestCost = cost(current), best: (grid: BlockGrid, error: [Float])? = nil
            for ratio in ratios.dropFirst() {
                let limit = ratio * amax
                for i in 0..<n { clipped[i] = min(max(block[i], -limit), limit) }
                let grid = clipped.withUnsafeBufferPointer { BlockGrid.reference(format, $0.baseAddress!) }
                guard grid.storedScale.isFinite, grid.storedScale != 0, grid.storedMinimum.isFinite else { continue }
                for i in 0..<n { candidate[i] = block[i] - grid.value(grid.code(block[i])) }
                let c = cost(candidate)
                if c < bestCost { bestCost = c; best = (grid, candidate) }
            }
            guard let best else { continue }
            grids[b] = best.grid
            for j in 0..<n {
                let change = Double(best.error[j] - error[offset + j])
                guard change != 0 else { continue }
                for i in 0..<K { product[i] += Double(h[i * K + offset + j]) * change }
                error[offset + j] = best.error[j]
            }
        }
        let bytes = format.traits.bytesPerBlock
        for b in 0..<blocks { grids[b].quantize(x + b * n, into: row + b * bytes) }
    }

    /// The rounding error of the 32 values at `x` on `grid`, written at `error[offset...]`.
    private static func blockError(_ grid: BlockGrid, _ x: UnsafePointer<Float>, into error: inout [Float], at offset: Int) {
        for i in 0..<BlockGrid.size { error[offset + i] = x[i] - grid.value(grid.code(x[i])) }
    }
}
