"""Seed data: a small, realistic demo and a fast bulk loader for benchmarks."""
