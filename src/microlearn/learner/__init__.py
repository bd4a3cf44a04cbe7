"""The self-learning loop (mlrn_learner): configuration and Python reference, header generator,
persistence format, planner, runner on targets and its driver program (driver.c)."""
