import IntermodalCore
import Testing

@Suite struct PollTests {
    @Test func returnsTheFirstValueTheConditionGives() async {
        var calls = 0
        let v = await Poll.firstValue(.seconds(60), .every(.milliseconds(1))) { () -> Int? in
            calls += 1
            return calls == 3 ? 42 : nil
        }
        #expect(v == 42 && calls == 3)
        var blockingCalls = 0
        #expect(Poll.blockingUntil(.seconds(60), .backingOff(from: .microseconds(1), to: .milliseconds(1))) { () -> Bool in
            blockingCalls += 1
            return blockingCalls == 5
        })
    }

    /// A condition that never holds: nil once the limit has passed, checked at least twice (the
    /// first time and once more at the deadline).
    @Test func givesNilAfterTheLimitHavingCheckedAtTheDeadline() async {
        var calls = 0
        let v = await Poll.firstValue(.milliseconds(30), .every(.seconds(3600))) { () -> Int? in
            calls += 1
            return nil
        }
        #expect(v == nil && calls == 2)
        var blocking = 0
        #expect(!Poll.blockingUntil(.milliseconds(30), .every(.seconds(3600))) { () -> Bool in blocking += 1; return false })
        #expect(blocking == 2)
    }

    @Test func errorsThrownByTheConditionReachTheCaller() async {
        struct Stop: Error {}
        await #expect(throws: Stop.self) {
            _ = try await Poll.until(.seconds(60), .every(.milliseconds(1))) { () throws(Stop) -> Bool in throw Stop() }
        }
    }

    @Test func aCancelledTaskStopsWaiting() async {
        let task = Task { await Poll.until(.seconds(3600), .every(.milliseconds(5))) { false } }
        task.cancel()
        #expect(await task.value == false)
    }
}
