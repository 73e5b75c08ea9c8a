// Which weights of a model are kept after pruning: one bitmap per pruned tensor over its elements
// in the parameter arena's order (bit i of byte i/8, least significant first; 1 = kept). The mask
// zeroes pruned weights (after every optimizer step of a recovery run), pruned gradients (before
// clipping) and pruned optimizer state, and it is what a sparse weights file stores beside the
// kept values. Tensors without an entry are dense.

/// Kept/pruned bits of the pruned tensors of one parameter layout.
public struct SparsityMask: Equatable, Sendable {
    /// One pruned tensor: its name, element offset in the arena, element count and bitmap.
    public struct Entry: Equatable, Sendable {
        public var tensor: String
        public var offset: Int
        public var count: Int
        /// ⌈count / 8⌉ bytes; bit i set = element i kept.
        public var kept: [UInt8]

        public init(tensor: String, offset: Int, count: Int, kept: [UInt8]) {
            precondition(kept.count == (count + 7) / 8, "\(tensor): a bitmap of \(count) bits has \((count + 7) / 8) bytes")
            self.tensor = tensor
            self.offset = offset
            self.count = count
            self.kept = kept
        }

        /// An entry from one Bool per element (true = kept).
        public init(tensor: String, offset: Int, keptFlags: [Bool]) {
            var bits = [UInt8](repeating: 0, count: (keptFlags.count + 7) / 8)
            for (i, flag) in keptFlags.enumerated() where flag { bits[i >> 3] |= 1 << UInt8(i & 7) }
            self.init(tensor: tensor, offset: offset, count: keptFlags.count, kept: bits)
        }

        @inline(__always) public func isKept(_ i: Int) -> Bool { kept[i >> 3] & (1 << UInt8(i & 7)) != 0 }

        /// Elements kept.
        public var keptCount: Int { kept.reduce(0) { $0 + $1.nonzeroBitCount } }
    }

    public var entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    public subscript(tensor: String) -> Entry? { entries.first { $0.tensor == tensor } }

    /// Elements in pruned tensors, and how many of them are pruned.
    public var maskedCount: Int { entries.reduce(0) { $0 + $1.count } }
    public var prunedCount: Int { entries.reduce(0) { $0 + $1.count - $1.keptCount } }

    /// Sets every pruned element of `values` (laid out like the parameter arena) to zero.
    public func apply(to values: UnsafeMutablePointer<Float>) {
        for entry in entries {
            let base = values + entry.offset
            entry.kept.withUnsafeBufferPointer { bits in
                for byte in 0..<bits.count {
                    let word = bits[byte]
                    if word == 0xFF { continue }
                    let first = byte << 3, last = min(first + 8, entry.count)
                    for i in first..<last where word & (1 << UInt8(i - first)) == 0 { base[i] = 0 }
                }
            }
        }
    }

    /// Whether every pruned element of `values` is exactly zero.
    public func holds(in values: UnsafePointer<Float>) -> Bool {
        for entry in entries {
            for i in 0..<entry.count where !entry.isKept(i) && values[entry.offset + i] != 0 { return false }
        }
        return true
    }
}
