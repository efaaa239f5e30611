import ArgumentParser
import ContainerRuntime
import IntermodalCore

/// `features`: what this runtime implements, as JSON (runtime-spec features.md, as runc 1.1+).
struct Features: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "features", abstract: "Print the features this runtime implements as JSON.")
    func run() {
        perform { () throws(IntermodalError) in
            let json = try JSON.encode(RuntimeFeatures.current(version: IntermodalVersion.string), pretty: true)
            StandardStreams.writeOutput(String(decoding: json, as: UTF8.self) + "\n")
        }
    }
}
