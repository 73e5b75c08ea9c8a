// The dimensions the numeric core needs; the engine's `ModelConfig` maps onto this.

/// Sizes of a GPT-2 model as the kernels see them (dimension letters as in the kernels).
public struct GPTDimensions: Equatable, Sendable {
    public var L: Int      // layers
    public var NH: Int     // heads
    public var C: Int      // embedding width
    public var maxT: Int   // positions in the table
    public var V: Int      // vocabulary
    public var hasBias: Bool
    public var epsilon: Float

    public init(L: Int, NH: Int, C: Int, maxT: Int, V: Int, hasBias: Bool = true, epsilon: Float = 1e-5) {
        self.L = L
        self.NH = NH
        self.C = C
        self.maxT = maxT
        self.V = V
        self.hasBias = hasBias
        self.epsilon = epsilon
    }
}
