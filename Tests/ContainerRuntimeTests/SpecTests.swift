import ContainerRuntime
import IntermodalCore
import SystemPackage
import Testing

@Suite("config.json model")
struct SpecTests {
    @Test("Spec.default round-trips through JSON and validates")
    func defaultRoundTrip() throws {
        let spec = Spec.default(args: ["sh"])
        try spec.validate()
        let bytes = try spec.encoded()
        let back = try Spec.decode(bytes)
        #expect(back == spec)
        #expect(back.linux?.namespaces?.map(\.type).contains("mount") == true)
    }

    @Test("a wrongly typed field is named with its JSON path")
    func badFieldNamed() throws {
        let json = #"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":["sh"],"cwd":"/","user":{"uid":"zero","gid":0}}}"#
        let error = #expect(throws: IntermodalError.self) { try Spec.decode(Array(json.utf8)) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("process.user.uid") == true)
    }

    @Test("unknown namespace types and capabilities are rejected by name")
    func validationNamesField() throws {
        var spec = Spec.default(args: ["sh"])
        spec.linux?.namespaces?.append(Spec.Namespace(type: "pidx"))
        let e1 = #expect(throws: IntermodalError.self) { try spec.validate() }
        #expect(e1?.message.contains("linux.namespaces[6].type") == true)

        spec = Spec.default(args: ["sh"])
        spec.process?.capabilities?.bounding?.append("CAP_FLY")
        let e2 = #expect(throws: IntermodalError.self) { try spec.validate() }
        #expect(e2?.message.contains("process.capabilities.bounding[3]") == true)
    }

    @Test("a hook timeout the launcher cannot hold (3e9 s, 99999999999 s) is refused before anything is created")
    func hookTimeoutBounded() throws {
        for timeout in [3_000_000_000, 99_999_999_999, Int.max] {
            var spec = Spec.default(args: ["sh"])
            var hooks = Spec.Hooks()
            hooks.poststart = [Spec.Hook(path: "/bin/true", timeout: timeout)]
            spec.hooks = hooks
            let e = #expect(throws: IntermodalError.self) { try spec.validate() }
            #expect(e?.message.contains("hooks.poststart[0].timeout") == true)
        }
        var spec = Spec.default(args: ["sh"])
        var hooks = Spec.Hooks()
        hooks.poststart = [Spec.Hook(path: "/bin/true", timeout: Int(Int32.max))]
        spec.hooks = hooks
        try spec.validate()
    }

    @Test("a missing config.json is reported as not found, naming the file")
    func missingConfig() throws {
        let dir = try FileSystem.makeTemporaryDirectory(prefix: "intermodal-spec")
        defer { try? FileSystem.removeTree(dir) }
        let error = #expect(throws: IntermodalError.self) { try Spec.load(bundle: dir) }
        #expect(error?.code == .notFound)
        #expect(error?.message.contains("config.json") == true)
    }
}
