# bench/ — benchmark programs (built by `make`, not installed).
