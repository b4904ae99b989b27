"""Direct Debit on the council's own service user number (DOMAIN.md, Bacs): sign-up,
advance notices, collections, the Standard 18 files and the reports from Bacs.
The rules are in shared/domain/bacs/; these modules apply them to the database."""
