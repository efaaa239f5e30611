// ContainerEngine: filled by its issue.
