"""Benchmarks behind ``arena bench``: each compares implementations measured in the same run and prints the
device it ran on."""
