// ImageStore: filled by its issue.
