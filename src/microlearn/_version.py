__version__ = "0.1.0"
# Version of the C runtime ABI. Generated headers #error when compiled against another one.
RUNTIME_VERSION = 3   # 3: MLRN_SVM_OVO_MAX_CLASSES, mlrn_storage.program_word, mlrn__proba_arg (2: mlrn_exp2_16, tree records)
