// Placeholder so the build has this entry; the module lands with its issue.
export {}
