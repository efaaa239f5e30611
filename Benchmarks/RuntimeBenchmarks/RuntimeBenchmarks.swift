import Benchmark
import IntermodalCore

let benchmarks: @Sendable () -> Void = {
    Benchmark("monotonic clock read") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(MonotonicInstant.now)
        }
    }
}
