import ArgumentParser

/// `images`, `history`, `pull`, `push`, `image bootstrap`, ... (the images issue).
enum ImageCommands {
    static let all: [any ParsableCommand.Type] = []
}
