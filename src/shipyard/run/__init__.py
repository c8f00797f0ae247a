"""Running work: jobs in parallel, their results, the result cache and its keys, commands, progress."""
