// Placeholder entry point; the benchmark suites land in this folder.
print("pvec-bench: no suites yet")
