"""The command line: the `shipyard` script, `shipyard init`, the console boundary, `invoke services`."""
