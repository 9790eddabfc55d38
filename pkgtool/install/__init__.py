"""Applying resolved entries to a root (apply), with the journal that rolls a killed install back (journal)."""
