import IntermodalCore
import Testing

@Suite struct PhaseTimestampsTests {
    @Test func firstMarkWinsAndDurationsAreOrdered() {
        var t = PhaseTimestamps()
        let a = MonotonicInstant(nanoseconds: 1_000)
        t.mark(.create, at: a)
        t.mark(.create, at: MonotonicInstant(nanoseconds: 5_000))
        t.mark(.exit, at: MonotonicInstant(nanoseconds: 3_000))
        #expect(t[.create] == a)
        #expect(t.duration(from: .create, to: .exit) == .nanoseconds(2_000))
        #expect(t.duration(from: .create, to: .cleanup) == nil)
    }

    @Test func monotonicClockAdvances() {
        let a = MonotonicInstant.now
        let b = MonotonicInstant.now
        #expect(b >= a)
    }
}
