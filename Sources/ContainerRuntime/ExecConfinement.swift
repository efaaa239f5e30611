extension Spec.Process {
    /// This process as `exec` runs it in a container whose init was configured as `container`:
    /// never with more privilege than the container was given. Without capabilities of its own it
    /// gets the container's; with its own, each set is cut to the container's bounding set; and
    /// no_new_privs is set when the container has it (as runc's exec keeps the container's).
    func confined(by container: Spec.Process?) -> Spec.Process {
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
