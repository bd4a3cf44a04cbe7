__version__ = "0.1.0"
# Version of the C runtime ABI. Generated headers #error when compiled against another one.
RUNTIME_VERSION = 2   # 2: mlrn_exp2_16 RBF kernel, tree records, SVM loop helpers (headers of 1 would miss them)
