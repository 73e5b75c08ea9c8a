// The key/value cache of incremental decoding: every layer's keys and values for the positions
// seen so far. `GPT.forward(…, cache:)` appends the new positions' keys and values and, once the
// cache holds a prefix, attends each new query over the whole cache instead of the batch.

/// Keys and values of one sequence's past positions, per layer ([maxT, A] each, A the block's attention width).
public final class KVCache: @unchecked Sendable {
    public let dimensions: GPTDimensions
    let keys: [FloatBuffer]
    let values: [FloatBuffer]
    /// One query's attention scores over the cached positions, [maxT].
    let scores: FloatBuffer
    /// Positions held.
    public internal(set) var length = 0

    public init(dimensions d: GPTDimensions) {
        dimensions = d
        keys = (0..<d.L).map { FloatBuffer(count: d.maxT * d.attentionWidth($0)) }
        values = (0..<d.L).map { FloatBuffer(count: d.maxT * d.attentionWidth($0)) }
        scores = FloatBuffer(count: d.maxT)
    }

    /// Forgets every position.
    public func reset() { length = 0 }

    /// Bytes held.
    public var byteCount: Int { (keys + values + [scores]).reduce(0) { $0 + $1.byteCount } }

    /// Copies the keys and values of `rows` qkv rows ([rows, 3A]) of `layer` to positions length, length+1, ….
    func store(layer l: Int, qkv: UnsafePointer<Float>, rows: Int) {
        let A = dimensions.attentionWidth(l)
        for t in 0..<rows {
            let row = qkv + t * 3 * A, position = length + t
            (keys[l].pointer + position * A).update(from: row + A, count: A)
            (values[l].pointer + position * A).update(from: row + 2 * A, count: A)
        }
    }

    /// out[t, h·hs..] = softmax(q_t,h · K_hᵀ / √hs) · V_h over cached positions 0...length+t, for each
    /// of `rows` new queries (their keys and values already stored).
    func attend(layer l: Int, qkv: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, rows: Int) {
        let hs = dimensions.headWidth, heads = dimensions.layers[l].heads, A = heads * hs
        let scale = 1 / Float(hs).squareRoot()
        let K = keys[l].pointer, V = values[l].pointer, s = scores.pointer
        for t in 0..<rows {
            let last = length + t
            for h in 0..<heads {
                let q = qkv + t * 3 * A + h * hs
                var maximum = -Float.greatestFiniteMagnitude
                for j in 0...last {
                    // 16-lane dot product: a scalar `+=` chain keeps IEEE order and never vectorises.
                    s[j] = VectorMath.dot(q, K + j * A + h * hs, hs) * scale
                    maximum = max(maximum, s[j])
                }
                var sum: Float = 0
                for j in 0...last {
                    s[j] = FastMath.exp(s[j] - maximum)
                    sum += s[j]
                }
                let y = out + t * A + h * hs
                y.update(repeating: 0, count: hs)
                for j in 0...last {
                    let weight = s[j] / sum
                    let v = V + j * A + h * hs
                    for i in 0..<hs { y[i] += weight * v[i] }
                }
            }
        }
    }
}
