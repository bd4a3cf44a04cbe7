"""Boards: real microcontroller boards, their limits, and how each is emulated."""
from .registry import BOARDS, Board, UnknownBoard, get_board, list_boards

__all__ = ["BOARDS", "Board", "UnknownBoard", "get_board", "list_boards"]
