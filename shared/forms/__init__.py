"""Forms and form validators that both faces use (portal/ and backoffice/).

Here rather than in either blueprint so neither imports the other: an officer
edits a debtor's contact details with the same form, validators and channel
checks the debtor has in the portal.
"""
