// VirtualMachines: filled by its issue.
