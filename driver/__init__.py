"""ipcproof's driver: builds the cases, runs them on kernels, writes reports."""
