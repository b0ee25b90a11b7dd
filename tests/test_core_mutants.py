"""Tests that kill mutants of the core that the rest of the suite let live (issue 15, items 14
and 16), each against torch 2.13.0 or a hand derivation."""
