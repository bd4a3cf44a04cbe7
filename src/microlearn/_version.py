__version__ = "0.1.0"
# Version of the C runtime ABI. Generated headers #error when compiled against another one.
RUNTIME_VERSION = 1
