// OpenBLAS's CBLAS interface (Debian: libopenblas-dev), for its types only: pvec opens the
// library itself on first use (Sources/PVecTensor/BLASLibrary.swift) instead of linking it,
// so commands that never compute do not pay for loading it and starting its threads.
#include <cblas.h>
