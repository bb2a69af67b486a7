"""The linter's half: reading manifest files as kubectl does, judging them, fixing them in place,
baselines and changed-file selection. Builds on the pure core; imports no server code."""
