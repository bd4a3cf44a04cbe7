__version__ = "0.1.0"
# Version of the C runtime ABI. Generated headers #error when compiled against another one.
RUNTIME_VERSION = 4   # 4: C names follow their headers (mlrn_smo_*, mlrn_linear_*, mlrn_kernel_dot, mlrn_math_*, mlrn_persist_ram_*, ...). 3: MLRN_SVM_OVO_MAX_CLASSES, mlrn_storage.program_word, mlrn_linear__proba_arg (2: mlrn_math_exp2_16, tree records)
