// HostProbe: filled by its issue.
