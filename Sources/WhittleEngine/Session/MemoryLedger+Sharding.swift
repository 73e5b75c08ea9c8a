// What one data-parallel worker holds, and what ZeRO stages 1–3 would shard across N workers: a pure
// function of the ledger (no allocation). Stage 0 is plain data parallelism as if every worker were
// a separate replica (full weights, its own gradient buffer, full optimizer state); stage 1 shards
// the optimizer state, stage 2 also the gradients, stage 3 also the weights (each / N per worker).

extension TrainingSession.MemoryLedger {
    /// Bytes one worker holds in a ZeRO stage, per category.
    public struct ShardedWorker: Equatable, Sendable {
        /// 0 (no sharding) ... 3.
        public var stage: Int
        public var weights: Int
        public var gradients: Int
        public var optimizer: Int
        /// Activations + workspace of one worker (never sharded).
        public var activations: Int

        /// Model states (weights + gradients + optimizer) of one worker.
        public var modelStates: Int { weights + gradients + optimizer }
        /// Everything one worker holds.
        public var total: Int { modelStates + activations }
    }

    /// The bytes of one of `workers` workers: its activations and workspace and its gradient buffer
    /// (the ledger's sums divided by the worker count, rounded up).
    public func perWorkerBytes(workers: Int) -> Int {
        let n = max(workers, 1)
        return (activations + workspace + gradients + n - 1) / n
    }

    /// One worker's bytes in ZeRO stages 0–3 for `workers` workers (index = stage). Shards round up.
    public func zeroStages(workers: Int) -> [ShardedWorker] {
        let n = max(workers, 1)
        func shard(_ bytes: Int, _ sharded: Bool) -> Int { sharded ? (bytes + n - 1) / n : bytes }
        let gradientBuffer = (gradients + n - 1) / n
        let perWorkerActivations = (activations + workspace + n - 1) / n
        return (0...3).map { stage in
            ShardedWorker(stage: stage, weights: shard(weights, stage >= 3), gradients: shard(gradientBuffer, stage >= 2),
                          optimizer: shard(optimizer, stage >= 1), activations: perWorkerActivations)
        }
    }
}
