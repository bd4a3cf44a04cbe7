"""The on-device trainer (SMO for SVMs): configuration, Python reference, header generator,
planner, runner on targets and its driver program (driver.c)."""
