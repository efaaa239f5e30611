// intermodal-runtime: a runc-compatible command line over the ContainerRuntime library.
//
// Global options come before the command, as with runc: `intermodal-runtime --root DIR create ...`.
// Start-up time matters (it is measured against runc and crun): no Foundation, no task runtime
// for the common commands, no helper processes.
#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ContainerRuntime
import IntermodalCore
import SystemPackage

Timing.mark("main")
var arguments = Array(CommandLine.arguments.dropFirst())
do {
    try Global.extract(from: &arguments)
} catch {
    Global.fail(error)
}
if arguments.isEmpty {
    arguments = ["--help"]
}
if ParseCheck.requested {
    ParseCheck.run()
}
if arguments == ["version"] {
    Version().run()
    exit(0)
}
if FastPath.run(arguments) {
    exit(0)
}
Global.parseAndRun(arguments)
