"""Prints the BLAS numpy uses and the kernel OpenBLAS picked (threadpoolctl when present)."""
import os

import numpy as np

print(f"numpy {np.__version__}; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
try:
    from threadpoolctl import threadpool_info

    np.ones((64, 64)) @ np.ones((64, 64))
    for lib in threadpool_info():
        if lib.get("user_api") == "blas":
            print(f"{lib.get('internal_api')} {lib.get('version')}; core {lib.get('architecture')}; "
                  f"threads {lib.get('num_threads')}; {os.path.basename(lib.get('filepath', ''))}")
except ImportError:
    np.show_config()
