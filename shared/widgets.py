"""GOV.UK Frontend widgets for WTForms whose fieldset legend is always the field's label.

govuk-frontend-wtf uses the label as the legend of a radios or checkboxes
fieldset only when the template passes no "fieldset" at all (a setdefault). A
template that passes one just to size the legend,
params={"fieldset": {"legend": {"classes": "govuk-fieldset__legend--m"}}},
silently loses the question: the radios render under an empty legend, which a
screen reader announces as a group with no name. These keep the label as the
legend's text unless the template gives its own text or html.
"""

from __future__ import annotations

from govuk_frontend_wtf import wtforms_widgets as gov


class _LegendIsLabel:
    def map_gov_params(self, field, **kwargs):
        params = super().map_gov_params(field, **kwargs)
        legend = params.setdefault("fieldset", {}).setdefault("legend", {})
        if not legend.get("text") and not legend.get("html"):
            legend["text"] = field.label.text
        return params


class GovRadioInput(_LegendIsLabel, gov.GovRadioInput):
    pass


class GovCheckboxesInput(_LegendIsLabel, gov.GovCheckboxesInput):
    pass
