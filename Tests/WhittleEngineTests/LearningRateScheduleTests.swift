import Testing
@testable import WhittleEngine

@Suite struct LearningRateScheduleTests {
    let schedule = LearningRateSchedule(kind: .cosine, peak: 1e-3, floor: 1e-4, warmupIterations: 100, decayIterations: 2000)

    @Test func testSchedule_warmupIsLinearFromPeakOverWarmupPlusOne() {
        #expect(schedule.rate(at: 0) == 1e-3 * 1 / 101)
        #expect(abs(schedule.rate(at: 99) - 1e-3 * 100 / 101) < 1e-9)
    }

    @Test func testSchedule_cosineReachesFloorAtDecayEnd() {
        #expect(abs(schedule.rate(at: 100) - 1e-3) < 1e-9)
        #expect(abs(schedule.rate(at: 1050) - 5.5e-4) < 1e-7)
        #expect(abs(schedule.rate(at: 2000) - 1e-4) < 1e-9)
        #expect(schedule.rate(at: 5000) == 1e-4)
    }
}
