extension Spec.Process {
    /// This process as `exec` runs it in a container whose init was configured as `container`:
    /// never with more privilege than the container was given. Without capabilities of its own it
    /// gets the container's; with its own, each set is cut to the container's bounding set; and
    /// no_new_privs is set when the container has it (as runc's exec keeps the container's).
    ///
    /// `adding` names capabilities the caller grants beyond the container's (`exec --cap`, which
    /// runc adds to the bounding, effective and permitted sets): an explicit choice, never cut.
    func confined(by container: Spec.Process?, adding: [String] = []) -> Spec.Process {
        var p = confinedToContainer(container)
        guard !adding.isEmpty else { return p }
        var caps = p.capabilities ?? Spec.Capabilities()
        func plus(_ list: [String]?) -> [String] { (list ?? []) + adding.filter { !(list ?? []).contains($0) } }
        caps.bounding = plus(caps.bounding)
        caps.effective = plus(caps.effective)
        caps.permitted = plus(caps.permitted)
        p.capabilities = caps
        return p
    }

    private func confinedToContainer(_ container: Spec.Process?) -> Spec.Process {
        guard let container else { return self }
        var p = self
        if container.noNewPrivileges == true { p.noNewPrivileges = true }
        guard let theirs = container.capabilities else { return p }
        guard var mine = p.capabilities else {
            p.capabilities = theirs
            return p
        }
        let bounding = Set(theirs.bounding ?? [])
        func cut(_ list: [String]?) -> [String]? { list.map { $0.filter(bounding.contains) } }
        mine.bounding = cut(mine.bounding ?? theirs.bounding)
        mine.effective = cut(mine.effective)
        mine.permitted = cut(mine.permitted)
        mine.inheritable = cut(mine.inheritable)
        mine.ambient = cut(mine.ambient)
        p.capabilities = mine
        return p
    }
}
