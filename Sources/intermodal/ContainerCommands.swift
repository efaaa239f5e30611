import ArgumentParser

/// `run`, `ps`, `logs`, `exec`, `stop`, `rm`, `inspect`, `commit`, `build` (the images issue).
enum ContainerCommands {
    static let all: [any ParsableCommand.Type] = []
}
