"""minigrad.linalg"""
