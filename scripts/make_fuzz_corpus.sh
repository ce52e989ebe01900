#!/bin/sh
# Rewrites fixtures/fuzz/ (the seed corpus of Tests/PVecRemoteTests/Fuzz) with pvec's own
# encoders; the output is deterministic, so a rerun without format changes leaves git clean.
# Usage: scripts/make_fuzz_corpus.sh   (from the repository root, after swift build --build-tests)
set -eu
PVEC_WRITE_FUZZ_CORPUS=1 swift test --skip-build --filter 'FuzzCorpusWriterTests/testWriteCorpus'
swift test --skip-build --filter 'FuzzCorpusWriterTests/testValidSeedsParse'
du -sh --apparent-size fixtures/fuzz
