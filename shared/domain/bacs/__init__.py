"""Bacs Direct Debit rules: the processing calendar, mandate references, modulus
checking, the Standard 18 file and the reports Bacs sends back. Pure: no Flask, no
database (shared/services/directdebit/ applies them)."""
