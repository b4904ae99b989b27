"""Messages written from templates: which channel, which words, and whether the
contact rules allow it now (one place for them: rules.py).

- templates.py: the stored templates (editing, Welsh versions, defaults, preview);
- values.py: the placeholder values for an account;
- rules.py: consent, preferred channel, quiet hours, the weekly cap, Breathing
  Space and deceased suppression;
- compose.py: writes the outbox row (one or many) after the rules allow it;
- letters.py and print_batches.py: letters to PDF and the daily print batch.
"""
