#if canImport(Glibc)
import Glibc
#endif
import CLibvirt
import FoundationEssentials
import IntermodalCore

/// The QEMU guest agent (`qemu-ga`) of a running guest, spoken to through libvirt
/// (`virDomainQemuAgentCommand`, what `virsh qemu-agent-command` does): the way operators run
/// commands in full-OS guests without a network or a login.
///
/// libvirt connects to the agent's virtio-serial port (`org.qemu.guest_agent.0`) itself; each
/// call is one JSON request and answer, and waits in libvirtd, so it runs on a thread of its
/// own, never on the cooperative pool.
public struct GuestAgent: Sendable {
    /// The virtio-serial port name the agent listens on in the guest.
    public static let channelName = "org.qemu.guest_agent.0"

    let domain: LibvirtDomain
    let api: intermodal_libvirt_qemu_api

    init(domain: LibvirtDomain) throws(IntermodalError) {
        var why: UnsafePointer<CChar>?
        guard let table = intermodal_libvirt_qemu_load(&why) else {
            let detail = why.map { String(cString: $0) } ?? "libvirt-qemu.so.0: cannot be loaded"
            throw IntermodalError(.unsupported, "libvirt's QEMU library is not installed (\(detail)); run scripts/setup (or apt-get install libvirt0)")
        }
        self.domain = domain
        self.api = table.pointee
    }

    /// Why a request got no answer.
    enum Failure: Error {
        /// The agent is not connected yet (or stopped answering within the timeout).
        case notResponding(String)
        /// The domain is not running any more.
        case notRunning(String)
        /// libvirt or the agent refused the request.
        case failed(String)
    }

    /// Sends one request (`{"execute": ...}`) and returns the raw JSON answer, waiting at most
    /// `timeoutSeconds` for the agent.
    func send(_ request: [UInt8], timeoutSeconds: Int32) async throws(IntermodalError) -> Result<[UInt8], Failure> {
        let api = self.api
        let domain = self.domain
        let text = String(decoding: request, as: UTF8.self)
        return try await DedicatedThread.run { () throws(IntermodalError) -> Result<[UInt8], Failure> in
            guard let answer = api.virDomainQemuAgentCommand(domain.handle.pointer, text, timeoutSeconds, 0) else {
                // libvirt's last error is per thread: read it here, on the thread that called.
                let code = Libvirt.loaded.virGetLastError()?.pointee.code ?? 0
                let message = Libvirt.lastError()
                if code == Int32(VIR_ERR_AGENT_UNRESPONSIVE.rawValue) || code == Int32(VIR_ERR_AGENT_UNSYNCED.rawValue) {
                    return .failure(.notResponding(message))
                }
                if code == Int32(VIR_ERR_OPERATION_INVALID.rawValue) || code == Int32(VIR_ERR_NO_DOMAIN.rawValue) {
                    return .failure(.notRunning(message))
                }
                return .failure(.failed(message))
            }
            defer { free(answer) }
            return .success(Array(String(cString: answer).utf8))
        }
    }

    /// `guest-ping`: `.answered` when the agent answered within `timeoutSeconds`.
    func ping(timeoutSeconds: Int32 = 1) async throws(IntermodalError) -> PingResult {
        switch try await send(Array(#"{"execute":"guest-ping"}"#.utf8), timeoutSeconds: timeoutSeconds) {
        case .success: return .answered
        case .failure(.notResponding): return .notYet
        case .failure(.notRunning): return .domainStopped
        case .failure(.failed(let why)): throw IntermodalError(.externalFailure, "guest agent of \(domain.name): guest-ping failed: \(why)")
        }
    }

    enum PingResult { case answered, notYet, domainStopped }

    /// `guest-exec` with captured output: starts `path` with `arguments` (and exactly
    /// `environment`, when given) and returns the guest's process ID.
    public func spawn(path: String, arguments: [String], environment: [String]?, input: [UInt8]? = nil,
                      timeoutSeconds: Int32 = 30) async throws(IntermodalError) -> Int {
        let request = Request(execute: "guest-exec", arguments: .exec(.init(
            path: path, arg: arguments, env: environment,
            inputData: input.map { Data($0).base64EncodedString() }, captureOutput: true)))
        let answer: Answer<SpawnReturn> = try await call(request, what: "guest-exec \(path)", timeoutSeconds: timeoutSeconds)
        return answer.return.pid
    }

    /// `guest-exec-status` of a process started by ``spawn``.
    public func status(pid: Int, timeoutSeconds: Int32 = 30) async throws(IntermodalError) -> ProcessStatus {
        let request = Request(execute: "guest-exec-status", arguments: .status(.init(pid: pid)))
        let answer: Answer<StatusReturn> = try await call(request, what: "guest-exec-status \(pid)", timeoutSeconds: timeoutSeconds)
        let r = answer.return
        func decode(_ text: String?, _ stream: String) throws(IntermodalError) -> [UInt8] {
            guard let text else { return [] }
            guard let data = Data(base64Encoded: text) else {
                throw IntermodalError(.corrupted, "guest agent of \(domain.name): \(stream) of process \(pid) is not base64")
            }
            return Array(data)
        }
        return ProcessStatus(
            // guest-exec-status gives an exit code or, when a signal ended the process, the signal.
            exit: r.exited ? ExitStatus(exitCode: r.exitcode.map(Int32.init) ?? 0, signal: r.signal.map(Int32.init)) : nil,
            standardOutput: try decode(r.outData, "out-data"), standardError: try decode(r.errData, "err-data"),
            outputTruncated: (r.outTruncated ?? false) || (r.errTruncated ?? false))
    }

    /// What `guest-exec-status` reports.
    public struct ProcessStatus: Sendable, Equatable {
        /// How the process ended; nil while it runs.
        public var exit: ExitStatus?
        public var exited: Bool { exit != nil }
        public var standardOutput: [UInt8]
        public var standardError: [UInt8]
        /// The agent keeps at most 16 MiB per stream and says when it dropped the rest.
        public var outputTruncated: Bool
    }

    private func call<T: Decodable>(_ request: Request, what: String, timeoutSeconds: Int32) async throws(IntermodalError) -> Answer<T> {
        let bytes = try JSON.encode(request)
        switch try await send(bytes, timeoutSeconds: timeoutSeconds) {
        case .failure(.notResponding(let why)):
            throw IntermodalError(.timeout, "guest agent of \(domain.name) did not answer \(what): \(why)")
        case .failure(.failed(let why)), .failure(.notRunning(let why)):
            throw IntermodalError(.externalFailure, "guest agent of \(domain.name): \(what) failed: \(why)")
        case .success(let answer):
            do { return try JSON.decode(Answer<T>.self, from: answer, what: "guest agent of \(domain.name): answer to \(what)") } catch {
                throw IntermodalError(error.code, "\(error.message): \(String(decoding: answer.prefix(200), as: UTF8.self))")
            }
        }
    }

    // MARK: The agent's JSON (qemu-ga's QAPI schema: guest-exec, guest-exec-status)

    struct Request: Encodable {
        var execute: String
        var arguments: Arguments

        enum Arguments: Encodable {
            case exec(Exec), status(Status)
            func encode(to encoder: any Encoder) throws {
                switch self {
                case .exec(let e): try e.encode(to: encoder)
                case .status(let s): try s.encode(to: encoder)
                }
            }
        }

        struct Exec: Encodable {
            var path: String
            var arg: [String]
            var env: [String]?
            var inputData: String?
            var captureOutput: Bool
            enum CodingKeys: String, CodingKey {
                case path, arg, env
                case inputData = "input-data"
                case captureOutput = "capture-output"
            }
        }

        struct Status: Encodable { var pid: Int }
    }

    struct Answer<T: Decodable>: Decodable { var `return`: T }

    struct SpawnReturn: Decodable { var pid: Int }

    struct StatusReturn: Decodable {
        var exited: Bool
        var exitcode: Int?
        var signal: Int?
        var outData: String?
        var errData: String?
        var outTruncated: Bool?
        var errTruncated: Bool?
        enum CodingKeys: String, CodingKey {
            case exited, exitcode, signal
            case outData = "out-data"
            case errData = "err-data"
            case outTruncated = "out-truncated"
            case errTruncated = "err-truncated"
        }
    }
}
