import ArgumentParser

/// The Docker-style workflow: image commands (store, registry) and container commands
/// (run, ps, commit, build). Each list lives in its own file.
enum EngineCommands {
    static let all: [any ParsableCommand.Type] = ImageCommands.all + ContainerCommands.all + [SystemCommand.self]
}
