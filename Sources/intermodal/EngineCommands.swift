import ArgumentParser

/// The Docker-style workflow: images, containers, build, registry. Filled by the images issue.
enum EngineCommands {
    static let all: [any ParsableCommand.Type] = []
}
