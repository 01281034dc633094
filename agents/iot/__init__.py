"""Learnt IoT schedulers: masked PPO from the policy-gradient core, and its hybrid with ant colonies."""
