"""Trainable players of the search env: a pointer policy (structured interface) and GRPO-family learners."""
