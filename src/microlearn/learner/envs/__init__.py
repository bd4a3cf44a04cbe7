"""Simulated environments for the self-learning examples.

hvac    the Edge2Train HVAC comfort example: room + occupant whose votes drift
colour  the TCS3200 colour-sensor project: RGB+clear readings, ambient drift, new colours
"""
