"""Evaluation measures for f2f outputs (sync, and more added by other modules)."""
