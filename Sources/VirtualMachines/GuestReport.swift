import IntermodalCore
import Logging

/// What the guest init reported over its channel, frame by frame, stamped on arrival with the
/// host's monotonic clock. Shared by the libvirt path and the bare-QEMU yardstick.
struct GuestReport {
    var marks: PhaseTimestamps
    var standardOutput: [UInt8] = []
    var standardError: [UInt8] = []
    /// Guest CLOCK_MONOTONIC readings: init, modulesLoaded, hello, commandStart, commandEnd.
    var guestClock: [String: UInt64] = [:]
    var exit: ExitStatus?
    var memTotalKiB: Int64?
    var memAvailableKiB: Int64?
    let outputLimit: Int

    init(marks: PhaseTimestamps, outputLimit: Int) {
        self.marks = marks
        self.outputLimit = outputLimit
    }

    /// Takes one frame in; throws for the init's own fatal errors ('F').
    mutating func apply(type: UInt8, payload: [UInt8], received: MonotonicInstant, output: VirtualMachine.OutputHandler?) throws(IntermodalError) {
        switch type {
        case UInt8(ascii: "H"):
            marks.mark(.initHello, at: received)
            let f = Self.fields(payload)
            if let initNs = f["init"], let nowNs = f["now"] {
                guestClock["init"] = initNs
                guestClock["modulesLoaded"] = f["modules"]
                guestClock["hello"] = nowNs
                // The guest's monotonic clock starts with its kernel: anchor it on this frame.
                let kernelStart = received.nanoseconds &- nowNs
                marks.mark(.kernelStart, at: MonotonicInstant(nanoseconds: kernelStart))
                marks.mark(.initStart, at: MonotonicInstant(nanoseconds: kernelStart &+ initNs))
            }
        case UInt8(ascii: "S"):
            marks.mark(.commandStart, at: received)
            marks.mark(.start, at: received)
            guestClock["commandStart"] = Self.fields(payload)["now"]
        case UInt8(ascii: "O"), UInt8(ascii: "E"):
            marks.mark(.firstOutput, at: received)
            let stream: GuestStream = type == UInt8(ascii: "O") ? .standardOutput : .standardError
            output?(stream, payload)
            if stream == .standardOutput {
                if standardOutput.count < outputLimit { standardOutput += payload.prefix(outputLimit - standardOutput.count) }
            } else if standardError.count < outputLimit {
                standardError += payload.prefix(outputLimit - standardError.count)
            }
        case UInt8(ascii: "X"):
            marks.mark(.commandEnd, at: received)
            marks.mark(.exit, at: received)
            let f = Self.fields(payload)
            let code = Int32(truncatingIfNeeded: Int64(bitPattern: f["code"] ?? 255))
            let sig = Int32(truncatingIfNeeded: Int64(bitPattern: f["signal"] ?? 0))
            exit = ExitStatus(exitCode: code, signal: sig)
            guestClock["commandStart"] = f["start"]
            guestClock["commandEnd"] = f["end"]
            memTotalKiB = f["memtotal"].map { Int64(bitPattern: $0) }
            memAvailableKiB = f["memavailable"].map { Int64(bitPattern: $0) }
        case UInt8(ascii: "F"):
            throw IntermodalError(.externalFailure, "guest init failed: \(String(decoding: payload, as: UTF8.self))")
        default:
            break   // a newer init's frame this host does not know: ignore
        }
    }

    /// "key=value key=value" from the init's text frames, numbers only.
    static func fields(_ payload: [UInt8]) -> [String: UInt64] {
        var out: [String: UInt64] = [:]
        for pair in String(decoding: payload, as: UTF8.self).split(separator: " ") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { continue }
            if let v = UInt64(kv[1]) { out[String(kv[0])] = v } else if let v = Int64(kv[1]) { out[String(kv[0])] = UInt64(bitPattern: v) }
        }
        return out
    }
}

/// Logs how long each preparation step took (debug level), for finding where time goes.
struct StepTimer {
    private var last = MonotonicInstant.now
    let logger: Logger

    init(logger: Logger) { self.logger = logger }

    mutating func lap(_ what: String) {
        let now = MonotonicInstant.now
        logger.debug("\(what): \(Int(now.duration(since: last).seconds * 1000)) ms")
        last = now
    }
}
