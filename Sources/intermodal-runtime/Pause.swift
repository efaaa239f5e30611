import ArgumentParser
import ContainerRuntime
import IntermodalCore

struct Pause: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Freeze every process of a container.")
    @Argument(help: "The container ID.") var id: String
    func run() { perform { () throws(IntermodalError) in try Global.runtime.pause(id: id) } }
}

struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Thaw a paused container.")
    @Argument(help: "The container ID.") var id: String
    func run() { perform { () throws(IntermodalError) in try Global.runtime.resume(id: id) } }
}
