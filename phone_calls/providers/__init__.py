"""Telephone companies behind one interface: see base.py; pick one with registry.provider_for_account."""
