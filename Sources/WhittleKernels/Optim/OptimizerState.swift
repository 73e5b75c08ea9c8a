// The state of an optimizer over the parameter arena, tensor by tensor: named state arrays
// (fp32 or bytes) allocated as `OptimizerKind` describes, an update step over every tensor, export
// and import as named tensors (for `optimizer.safetensors`), and the state a switch keeps.

/// One state array of one parameter tensor, e.g. `m` of `h.0.attn.c_attn.weight`.
public final class OptimizerStateArray: @unchecked Sendable {
    public enum Storage { case float32(FloatBuffer), uint8(ByteBuffer) }
    /// State name without the tensor, e.g. "m", "v_row", "m_q".
    public let name: String
    public let shape: [Int]
    public let storage: Storage

    init(_ name: String, _ shape: [Int], bytes: Bool = false, fill: UInt8 = 0) {
        self.name = name
        self.shape = shape
        let count = shape.reduce(1, *)
        storage = bytes ? .uint8(ByteBuffer(count: count, repeating: fill)) : .float32(FloatBuffer(count: count))
    }

    public var count: Int { shape.reduce(1, *) }
    public var byteCount: Int {
        switch storage {
        case .float32: count * MemoryLayout<Float>.stride
        case .uint8: count
        }
    }
    var floats: UnsafeMutablePointer<Float> {
        guard case .float32(let buffer) = storage else { preconditionFailure("\(name) is not fp32 state") }
        return buffer.pointer
    }
    var bytes: UnsafeMutablePointer<UInt8> {
        guard case .uint8(let buffer) = storage else { preconditionFailure("\(name) is not byte state") }
        return buffer.pointer
    }
}

/// A fixed-size byte buffer (quantized optimizer state).
public final class ByteBuffer: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<UInt8>
    public init(count: Int, repeating value: UInt8 = 0) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: value, count: max(count, 1))
    }
    deinit { pointer.deallocate() }
    public var array: [UInt8] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

/// A state tensor as stored in a checkpoint: `<state name>.<parameter name>`.
public struct OptimizerStateTensor: Equatable, Sendable {
    public enum Values: Equatable, Sendable { case float32([Float]), uint8([UInt8]) }
    public var name: String
    public var shape: [Int]
    public var values: Values
    public init(name: String, shape: [Int], values: Values) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// A checkpoint's optimizer state does not fit the run (missing or misshapen tensor).
public struct OptimizerStateError: Error, Sendable {
    public var message: String
}

/// An optimizer's state for every tensor of a layout, and its update step.
public final class OptimizerState: @unchecked Sendable {
    public let kind: OptimizerKind
    public let layout: ParameterLayout
    /// Updates applied with this state; Adam's bias correction and Adafactor's β2(t) count from it,
    /// so an optimizer switched in mid-run starts its own count at 1.
    public internal(set) var step = 0
    /// State arrays per tensor, in layout order.
    public let slots: [[OptimizerStateArray]]
    /// Column scratch for Adafactor, one per thread part.
    let scratch: [FloatBuffer]
    /// Tensors are updated in `maxParts` contiguous groups of similar size, concurrently; each
    /// tensor's update is independent of the others, so any split gives the same bits.
    static let maxParts = 8

    /// Fresh (zero) state for `kind`.
    public init(kind: OptimizerKind, layout: ParameterLayout) {
        self.kind = kind
        self.layout = layout
        slots = layout.tensors.map { Self.allocate(kind, $0) }
        scratch = Self.scratch(kind, layout)
    }

    /// Adafactor's column sums need one row of scratch (workspace, not state).
    static func scratch(_ kind: OptimizerKind, _ layout: ParameterLayout) -> [FloatBuffer] {
        let columns = kind == .adafactor ? layout.tensors.compactMap { Adafactor.factoredShape($0.shape)?.columns }.max() ?? 0 : 0
        return (0..<maxParts).map { _ in FloatBuffer(count: columns) }
    }

    /// `parts` contiguous ranges of tensor indices with about the same number of values each.
    public static func partition(_ layout: ParameterLayout, parts: Int) -> [Range<Int>] {
        let parts = max(1, min(parts, maxParts, layout.tensors.count))
        var ranges: [Range<Int>] = [], start = 0, done = 0
        for part in 0..<parts {
            let target = layout.totalCount * (part + 1) / parts
            var end = start
            while end < layout.tensors.count && (done < target || end == start) && layout.tensors.count - end > parts - part - 1 {
                done += layout.tensors[end].count
                end += 1
            }
            if part == parts - 1 { end = layout.tensors.count }
            ranges.append(start..<end)
            start = end
        }
        return ranges.filter { !$0.isEmpty }
    }

    private init(kind: OptimizerKind, layout: ParameterLayout, step: Int, slots: [[OptimizerStateArray]]) {
        self.kind = kind
        self.layout = layout
        self.step = step
        self.slots = slots
        scratch = Self.scratch(kind, layout)
    }

    static func allocate(_ kind: OptimizerKind, _ tensor: ParameterTensor) -> [OptimizerStateArray] {
        let shape = tensor.shape
        switch kind {
        case .sgd: return []
        case .momentum, .nesterov: return [.init("momentum_buffer", shape)]
        case .adam, .adamw: return [.init("m", shape), .init("v", shape)]
        case .lion: return [.init("m", shape)]
        case .adafactor:
            guard let (rows, columns) = Adafactor.factoredShape(shape) else { return [.init("v", shape)] }
            return [.init("v_row", [rows]), .init("v_col", [columns])]
        case .adamw8bit:
            guard AdamW8bit.isQuantized(count: tensor.count) else { return [.init("m", shape), .init("v", shape)] }
            let blocks = (tensor.count + AdamW8bit.blockSize - 1) / AdamW8bit.blockSize
            return [.init("m_q", shape, bytes: true, fill: AdamW8bit.signedZero), .init("m_absmax", [blocks]),
                    .init("v_q", shape, bytes: true, fill: AdamW8bit.unsignedZero), .init("v_max", [blocks])]
        }
    }

    /// Bytes held by the state arrays (equals `kind.stateBytes(for: layout)`).
    public var byteCount: Int { slots.reduce(0) { $0 + $1.reduce(0) { $0 + $1.byteCount } } }

    /// One optimizer step over every tensor (`step` advances first, so the first update is step 1),
    /// on up to `threads` threads (the result does not depend on the count).
    public func update(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
                       hyperparameters h: OptimizerHyperparameters, threads: Int = 1) {
        step += 1
        let ranges = Self.partition(layout, parts: threads)
        let box = UncheckedBox((parameters, gradients))
        Parallel.forEach(ranges.count) { part in
            update(tensors: ranges[part], parameters: box.value.0, gradients: box.value.1, hyperparameters: h,
                   scratch: scratch[part])
        }
    }

    private func update(tensors: Range<Int>, parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
                        hyperparameters h: OptimizerHyperparameters, scratch: FloatBuffer) {
        let lr = h.learningRate, adamW = h.adamW
        for index in tensors {
            let tensor = layout.tensors[index]
            let p = parameters + tensor.offset, g = gradients + tensor.offset, n = tensor.count
            let state = slots[index]
            let l2: Float = tensor.decays ? h.weightDecay : 0
            let decay: Float = tensor.decays ? 1 - lr * h.weightDecay : 1
            switch kind {
            case .sgd:
                SGD.update(parameters: p, gradients: g, count: n, learningRate: lr, l2: l2)
            case .momentum, .nesterov:
                SGD.update(parameters: p, gradients: g, buffer: state[0].floats, count: n, learningRate: lr, l2: l2,
                           momentum: h.momentum, nesterov: kind == .nesterov)
            case .adam:
                Adam.update(parameters: p, gradients: g, m: state[0].floats, v: state[1].floats, count: n,
                            settings: adamW, step: step, decays: tensor.decays)
            case .adamw:
                AdamW.update(parameters: p, gradients: g, m: state[0].floats, v: state[1].floats, count: n,
                             settings: adamW, step: step, decays: tensor.decays)
            case .lion:
                Lion.update(parameters: p, gradients: g, m: state[0].floats, count: n, learningRate: lr,
                            beta1: h.beta1, beta2: h.beta2, decay: decay)
            case .adafactor:
                if let (rows, columns) = Adafactor.factoredShape(tensor.shape) {
                    Adafactor.updateFactored(parameters: p, gradients: g, row: state[0].floats, column: state[1].floats,
                                             rows: rows, columns: columns, learningRate: lr, decay: decay, step: step,
                                             scratch: scratch.pointer)
                } else {
                    Adafactor.updateVector(parameters: p, gradients: g, v: state[0].floats, count: n,
                                           learningRate: lr, decay: decay, step: step)
                }
            case .adamw8bit:
                if state.count == 4 {
                    AdamW8bit.update(parameters: p, gradients: g, mCodes: state[0].bytes, mScales: state[1].floats,
                                     vCodes: state[2].bytes, vScales: state[3].floats, count: n,
                                     settings: adamW, step: step, decays: tensor.decays)
                } else {
                    AdamW.update(parameters: p, gradients: g, m: state[0].floats, v: state[1].floats, count: n,
                                 settings: adamW, step: step, decays: tensor.decays)
                }
            }
        }
    }

    /// Every state array as a named tensor `<state>.<parameter>`, in layout order.
    public func exportedTensors() -> [OptimizerStateTensor] {
        zip(layout.tensors, slots).flatMap { tensor, arrays in
            arrays.map { array in
                let values: OptimizerStateTensor.Values = switch array.storage {
                case .float32(let buffer): .float32(buffer.array)
                case .uint8(let buffer): .uint8(buffer.array)
                }
                return OptimizerStateTensor(name: array.name + "." + tensor.name, shape: array.shape, values: values)
            }
        }
    }

    /// Replaces every state array with the tensor of the same name from `lookup`, and the step count.
    /// - Throws: `OptimizerStateError` naming the first missing, misshapen or mistyped tensor.
    public func load(step: Int, _ lookup: (String) throws -> OptimizerStateTensor?) throws {
        for (tensor, arrays) in zip(layout.tensors, slots) {
            for array in arrays {
                let name = array.name + "." + tensor.name
                guard let stored = try lookup(name), stored.shape == array.shape else {
                    throw OptimizerStateError(message: "lacks \(kind.rawValue) state \(name) with shape \(array.shape)")
                }
                switch (array.storage, stored.values) {
                case (.float32(let buffer), .float32(let values)) where values.count == buffer.count:
                    values.withUnsafeBufferPointer { buffer.pointer.update(from: $0.baseAddress!, count: values.count) }
                case (.uint8(let buffer), .uint8(let values)) where values.count == buffer.count:
                    values.withUnsafeBufferPointer { buffer.pointer.update(from: $0.baseAddress!, count: values.count) }
                default:
                    throw OptimizerStateError(message: "state \(name) has the wrong element type for \(kind.rawValue)")
                }
            }
        }
        self.step = step
    }

    /// The state for `newKind` after a switch: this state (same arrays and step count) when
    /// `newKind.inheritsState(from: kind)`, else fresh zero state with the step count at 0.
    public func switched(to newKind: OptimizerKind) -> (state: OptimizerState, kept: Bool) {
        if newKind.inheritsState(from: kind) {
            return (OptimizerState(kind: newKind, layout: layout, step: step, slots: slots), true)
        }
        return (OptimizerState(kind: newKind, layout: layout), false)
    }

    /// What a switch from `old` to `new` does to the state, for messages and logs.
    public static func switchDescription(from old: OptimizerKind, to new: OptimizerKind, layout: ParameterLayout) -> String {
        let bytes = "optimizer state \(old.stateBytes(for: layout)) → \(new.stateBytes(for: layout)) bytes"
        if new == old { return "\(new.displayName) unchanged" }
        if new.inheritsState(from: old) {
            let what = old.stateNames.joined(separator: ", ")
            return "optimizer \(old.rawValue) → \(new.rawValue): \(new.displayName) keeps \(old.displayName)'s state (\(what)) and step count; \(bytes)"
        }
        let dropped = old.stateNames.isEmpty ? "it had no state" : "its state is dropped"
        return "optimizer \(old.rawValue) → \(new.rawValue): \(new.displayName) starts from fresh state (\(dropped)), step count 1 at the next step; \(bytes)"
    }
}
