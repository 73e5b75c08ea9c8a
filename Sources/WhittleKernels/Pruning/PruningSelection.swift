// Choosing which weights to prune from a score per weight (smaller = less important): the k
// smallest of a whole set (a tensor, or every targeted tensor for a global target), the k smallest
// of each output row (Wanda's comparison group), or N kept of every M consecutive inputs of a row
// (N:M patterns such as 2:4). Matrices are viewed output-major here: `rows` outputs of `columns`
// inputs, scores[r * columns + k]. Ties are broken by position (the earlier element is pruned
// first), so masks are the same on every run.

/// Mask selection from scores.
public enum PruningSelection {
    /// The value a `count`-th smallest score has and how many scores at that value are pruned:
    /// every score below `threshold` is pruned, plus the first `atThreshold` equal to it (in order).
    public struct Cut: Equatable, Sendable {
        public var threshold: Float
        public var atThreshold: Int
    }

    /// The cut that prunes exactly `count` of `scores` (0 ≤ count ≤ scores.count); nil when count is 0.
    public static func cut(_ scores: UnsafeBufferPointer<Float>, count: Int) -> Cut? {
        precondition(count >= 0 && count <= scores.count)
        guard count > 0 else { return nil }
        var sorted = Array(scores)
        sorted.sort()
        let threshold = sorted[count - 1]
        var below = 0
        for value in scores where value < threshold { below += 1 }
        return Cut(threshold: threshold, atThreshold: count - below)
    }

    /// Marks in `kept` (false = pruned) the elements `cut` prunes, in order; `remaining` carries the
    /// ties still to prune across calls (a global cut spans tensors). Elements already pruned stay so.
    public static func apply(_ cut: Cut?, scores: UnsafeBufferPointer<Float>, kept: UnsafeMutableBufferPointer<Bool>,
                             remainingTies: inout Int) {
        guard let cut else { return }
        for i in 0..<scores.count {
            let value = scores[i]
            if value < cut.threshold {
                kept[i] = false
            } else if value == cut.threshold && remainingTies > 0 {
                kept[i] = false
                remainingTies -= 1
            }
        }
    }

    /// Prunes the `count` smallest scores of every row (rows × columns, output-major).
    public static func smallestPerRow(_ scores: UnsafePointer<Float>, rows: Int, columns: Int, count: Int,
                                      kept: UnsafeMutablePointer<Bool>) {
        for r in 0..<rows {
            let row = UnsafeBufferPointer(start: scores + r * columns, count: columns)
            var ties = 0
            let rowCut = cut(row, count: count)
            ties = rowCut?.atThreshold ?? 0
            apply(rowCut, scores: row, kept: UnsafeMutableBufferPointer(start: kept + r * columns, count: columns), remainingTies: &ties)
        }
    }

    /// N:M: in every group of `group` consecutive columns of a row, keeps the `keep` largest scores
    /// (columns must be a multiple of `group`).
    public static func nOfM(_ scores: UnsafePointer<Float>, rows: Int, columns: Int, keep: Int, group: Int,
                            kept: UnsafeMutablePointer<Bool>) {
        precondition(group > 0 && keep >= 0 && keep <= group && columns % group == 0, "groups of \(group) must tile rows of \(columns)")
        for r in 0..<rows {
            for start in stride(from: 0, to: columns, by: group) {
                groupPrune(scores + r * columns + start, group: group, prune: group - keep, kept: kept + r * columns + start)
            }
        }
    }

    /// Prunes the `prune` smallest of `group` scores (ties: the earlier first).
    @inline(__always)
    static func groupPrune(_ scores: UnsafePointer<Float>, group: Int, prune: Int, kept: UnsafeMutablePointer<Bool>) {
        for j in 0..<group { kept[j] = true }
        for _ in 0..<prune {
            var smallest = -1
            for j in 0..<group where kept[j] && (smallest < 0 || scores[j] < scores[smallest]) { smallest = j }
            kept[smallest] = false
        }
    }
}
