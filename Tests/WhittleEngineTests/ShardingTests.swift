// Per-worker bytes and the ZeRO stage table computed from a ledger.

import Testing
@testable import WhittleEngine

@Suite struct ShardingTests {
    let ledger = TrainingSession.MemoryLedger(weights: 1000, gradients: 4000, optimizer: 2000, activations: 800,
                                              workspace: 200)

    @Test func testPerWorkerBytes_isOneWorkersActivationsWorkspaceAndGradientBuffer() {
        #expect(ledger.perWorkerBytes(workers: 4) == 200 + 50 + 1000)
        #expect(ledger.perWorkerBytes(workers: 1) == 800 + 200 + 4000)
        #expect(ledger.perWorkerBytes(workers: 0) == ledger.perWorkerBytes(workers: 1))
    }

    @Test func testZeroStages_shardOptimizerThenGradientsThenWeights() {
        let stages = ledger.zeroStages(workers: 4)
        #expect(stages.map(\.stage) == [0, 1, 2, 3])
        #expect(stages.map(\.weights) == [1000, 1000, 1000, 250])
        #expect(stages.map(\.gradients) == [1000, 1000, 250, 250])
        #expect(stages.map(\.optimizer) == [2000, 500, 500, 500])
        #expect(stages.allSatisfy { $0.activations == 250 })
        #expect(stages.map(\.total) == [4250, 2750, 2000, 1250])
    }

    @Test func testZeroStages_oneWorkerShardsNothing_andSharesRoundUp() {
        #expect(Set(ledger.zeroStages(workers: 1).map(\.total)).count == 1)
        let odd = TrainingSession.MemoryLedger(weights: 10, gradients: 30, optimizer: 10, activations: 3, workspace: 0)
        #expect(odd.zeroStages(workers: 3)[3] == .init(stage: 3, weights: 4, gradients: 4, optimizer: 4, activations: 1))
    }
}
