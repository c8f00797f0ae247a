"""`invoke lint`/`test`/`ci`: the checks and test sessions of each unit, test services, the CI gate."""
