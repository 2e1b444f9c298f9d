"""Vault-local models of synaptic plasticity, imported by the notes' cells (numpy only)."""
