"""What puts microlearn's products on a user's board: the Arduino library (arduino_library.py)."""
from .arduino_library import LibraryError, build_library, default_libraries_dir, install

__all__ = ["LibraryError", "build_library", "default_libraries_dir", "install"]
