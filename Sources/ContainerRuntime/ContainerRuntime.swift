// ContainerRuntime: filled by its issue.
