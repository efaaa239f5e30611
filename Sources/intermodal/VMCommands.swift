import ArgumentParser

/// `intermodal vm ...`: the same image booted as a libvirt guest. Filled by the VM issue.
enum VMCommands {
    static let all: [any ParsableCommand.Type] = []
}
