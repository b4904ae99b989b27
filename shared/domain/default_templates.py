"""The message templates a council starts with (pure data: no database, no Flask).

`flask --app wsgi dunning install-defaults` stores each one that is missing and
never overwrites one an administrator has edited. Many readers are elderly, ill,
bereaved or acting for someone else, so every message says plainly what is owed,
by when, how to pay, that we will listen if they cannot pay, and where free debt
advice is. Texts name no amount (a phone is often shared) and fit one SMS in
English.

The Welsh versions are the product's own first translation; the council's Welsh
translator reviews them (and the Welsh-language advice line numbers) before they
are used: Welsh Language Standards require the Welsh to be as good as the English.
"""

from __future__ import annotations

from dataclasses import dataclass

LETTER, EMAIL, SMS = "letter", "email", "sms"
EN, CY = "en", "cy"


@dataclass(frozen=True)
class DefaultTemplate:
    key: str
    channel: str
    language: str
    name: str
    subject: str | None
    body: str


def _join(*paragraphs: str) -> str:
    return "\n\n".join(p.strip("\n") for p in paragraphs)


# --- paragraphs every collection message shares --------------------------------------------------

HOW_TO_PAY_EN = (
    "How to pay\n"
    "Online at {portal_url}\n"
    "By phone on {council_phone}\n"
    "Please quote your payment reference: {payment_reference}"
)
HOW_TO_PAY_CY = (
    "Sut i dalu\n"
    "Ar-lein yn {portal_url}\n"
    "Dros y ffôn ar {council_phone}\n"
    "Nodwch eich cyfeirnod talu: {payment_reference}"
)

CANNOT_PAY_EN = (
    "If you cannot pay all of this now, please contact us as soon as you can on "
    "{council_phone} or at {council_email}. We can agree for you to pay in smaller amounts "
    "that you can afford. Please also tell us if something is making things hard for you, "
    "such as illness, a bereavement, caring for someone or a drop in your income. We will "
    "listen, and we will help where we can."
)
CANNOT_PAY_CY = (
    "Os na allwch dalu'r cyfan nawr, cysylltwch â ni cyn gynted ag y gallwch ar "
    "{council_phone} neu yn {council_email}. Gallwn gytuno i chi dalu symiau llai y gallwch "
    "eu fforddio. Rhowch wybod i ni hefyd os oes rhywbeth yn gwneud pethau'n anodd i chi, "
    "fel salwch, profedigaeth, gofalu am rywun neu ostyngiad yn eich incwm. Byddwn yn "
    "gwrando, a byddwn yn helpu lle gallwn."
)

# Independent, free advice. Citizens Advice's number is its England Adviceline in
# English and its Wales Advicelink in Welsh; MoneyHelper's Welsh line is 0800 138 0555.
ADVICE_EN = (
    "Free, confidential debt advice\n"
    "These organisations are independent and do not charge:\n"
    "MoneyHelper: 0800 138 7777, moneyhelper.org.uk\n"
    "StepChange Debt Charity: 0800 138 1111, stepchange.org\n"
    "Citizens Advice: 0800 144 8848, citizensadvice.org.uk"
)
ADVICE_CY = (
    "Cyngor ar ddyledion am ddim ac yn gyfrinachol\n"
    "Mae'r sefydliadau hyn yn annibynnol ac nid ydynt yn codi tâl:\n"
    "HelpwrArian (MoneyHelper): 0800 138 0555, moneyhelper.org.uk/cy\n"
    "StepChange Debt Charity: 0800 138 1111, stepchange.org\n"
    "Cyngor ar Bopeth (Citizens Advice): 0800 702 2020, citizensadvice.org.uk/cymraeg"
)
BUSINESS_ADVICE_EN = "Business Debtline (for businesses): 0800 197 6026, businessdebtline.org"
BUSINESS_ADVICE_CY = "Business Debtline (i fusnesau): 0800 197 6026, businessdebtline.org"

SIGN_OFF_EN = "Yours sincerely,\n\nIncome Recovery Team\n{council_name}"
SIGN_OFF_CY = "Yn gywir,\n\nTîm Adennill Incwm\n{council_name}"

INVOICES_EN = "Invoice number(s): {invoice_numbers}\nFirst due on: {oldest_due_date}"
INVOICES_CY = "Rhif(au) anfoneb: {invoice_numbers}\nYn ddyledus gyntaf ar: {oldest_due_date}"

# --- reminder ------------------------------------------------------------------------------------


def _reminder_en(this: str) -> str:
    return _join(
        "Dear {debtor_name},",
        "We have not yet received payment of {amount_due} for {department_name}, which was "
        "due on {oldest_due_date}.",
        INVOICES_EN + "\nAccount reference: {account_reference}",
        f"This may be an oversight. If you have paid in the last few days, thank you, and "
        f"please ignore this {this}.",
        "Please pay {amount_due} by {pay_by_date}.",
        HOW_TO_PAY_EN,
        CANNOT_PAY_EN,
        ADVICE_EN,
        SIGN_OFF_EN,
    )


def _reminder_cy(this: str) -> str:
    return _join(
        "Annwyl {debtor_name},",
        "Nid ydym wedi cael taliad o {amount_due} eto ar gyfer {department_name}, a oedd yn "
        "ddyledus ar {oldest_due_date}.",
        INVOICES_CY + "\nCyfeirnod y cyfrif: {account_reference}",
        f"Efallai mai camgymeriad yw hyn. Os ydych wedi talu yn ystod y dyddiau diwethaf, "
        f"diolch, ac anwybyddwch {this}.",
        "Talwch {amount_due} erbyn {pay_by_date}, os gwelwch yn dda.",
        HOW_TO_PAY_CY,
        CANNOT_PAY_CY,
        ADVICE_CY,
        SIGN_OFF_CY,
    )


# --- final demand --------------------------------------------------------------------------------

FINAL_DEMAND_EN = _join(
    "Dear {debtor_name},",
    "We wrote to you recently about {amount_due} you owe for {department_name}. We have not "
    "received payment and we have not heard from you.",
    INVOICES_EN,
    "Please pay {amount_due} by {pay_by_date}, or contact us by then.",
    "If we do not hear from you, we may take further action to recover the money. This could "
    "mean going to court, which could add court costs to what you owe. We would much rather "
    "agree a way forward with you.",
    HOW_TO_PAY_EN,
    CANNOT_PAY_EN,
    ADVICE_EN,
    SIGN_OFF_EN,
)
FINAL_DEMAND_CY = _join(
    "Annwyl {debtor_name},",
    "Fe wnaethom ysgrifennu atoch yn ddiweddar am {amount_due} sy'n ddyledus gennych ar gyfer "
    "{department_name}. Nid ydym wedi cael taliad ac nid ydym wedi clywed gennych.",
    INVOICES_CY,
    "Talwch {amount_due} erbyn {pay_by_date}, neu cysylltwch â ni erbyn hynny.",
    "Os na fyddwn yn clywed gennych, efallai y byddwn yn cymryd camau pellach i adennill yr "
    "arian. Gallai hyn olygu mynd i'r llys, a allai ychwanegu costau llys at yr hyn sydd "
    "arnoch. Byddai'n llawer gwell gennym gytuno ar ffordd ymlaen gyda chi.",
    HOW_TO_PAY_CY,
    CANNOT_PAY_CY,
    ADVICE_CY,
    SIGN_OFF_CY,
)

# --- letter before action (organisations) --------------------------------------------------------

PRE_ACTION_EN = _join(
    "Dear {debtor_name},",
    "We have written to you about {amount_due} owed to {council_name} for {department_name}. "
    "It has still not been paid.",
    INVOICES_EN + "\nAccount reference: {account_reference}",
    "Unless you pay {amount_due}, or contact us to agree how it will be paid, by "
    "{pay_by_date}, we intend to start court proceedings to recover the debt without further "
    "notice. If we do, we will also claim court fees, and we may claim statutory interest and "
    "compensation under the Late Payment of Commercial Debts (Interest) Act 1998.",
    "If you dispute the debt, tell us by {pay_by_date} and explain why, so that we can look "
    "into it before we take any further step.",
    HOW_TO_PAY_EN,
    "If your business cannot pay in full, please contact us on {council_phone} or at "
    "{council_email}. We will consider a plan to pay in instalments.",
    ADVICE_EN + "\n" + BUSINESS_ADVICE_EN,
    SIGN_OFF_EN,
)
PRE_ACTION_CY = _join(
    "Annwyl {debtor_name},",
    "Rydym wedi ysgrifennu atoch am {amount_due} sy'n ddyledus i {council_name} ar gyfer "
    "{department_name}. Nid yw wedi cael ei dalu o hyd.",
    INVOICES_CY + "\nCyfeirnod y cyfrif: {account_reference}",
    "Oni bai eich bod yn talu {amount_due}, neu'n cysylltu â ni i gytuno sut y caiff ei dalu, "
    "erbyn {pay_by_date}, rydym yn bwriadu dechrau achos llys i adennill y ddyled heb rybudd "
    "pellach. Os gwnawn hynny, byddwn hefyd yn hawlio ffioedd llys, ac efallai y byddwn yn "
    "hawlio llog statudol ac iawndal o dan y Late Payment of Commercial Debts (Interest) Act "
    "1998.",
    "Os ydych yn anghytuno â'r ddyled, rhowch wybod i ni erbyn {pay_by_date} ac eglurwch pam, "
    "er mwyn i ni allu edrych arni cyn i ni gymryd unrhyw gam arall.",
    HOW_TO_PAY_CY,
    "Os na all eich busnes dalu'r cyfan, cysylltwch â ni ar {council_phone} neu yn "
    "{council_email}. Byddwn yn ystyried cynllun i dalu fesul rhandaliad.",
    ADVICE_CY + "\n" + BUSINESS_ADVICE_CY,
    SIGN_OFF_CY,
)

# --- Letter of Claim (individuals and sole traders) ----------------------------------------------
# The Pre-Action Protocol for Debt Claims (para 3.1): the amount, whether interest or
# charges continue, how to pay, the address to send the reply form to, the information
# sheet and reply form enclosed, and 30 days to reply.

LETTER_OF_CLAIM_EN = _join(
    "Dear {debtor_name},",
    "Letter of Claim",
    "We are writing to you under the Pre-Action Protocol for Debt Claims. You owe "
    "{council_name} {amount_due} for {department_name}. We have written to you about this "
    "before and it has not been paid.",
    INVOICES_EN + "\nAccount reference: {account_reference}",
    "Amount owed: {amount_due}. This is what you owe today. We are not adding interest or "
    "other charges to it at the moment. If we have to go to court, we will ask the court to "
    "add court fees, and we may ask it to add interest.",
    "What you need to do\n"
    "Please reply within 30 days of the date of this letter, by {respond_by_date}. You can:\n"
    "- pay {amount_due} in full, or\n"
    "- fill in the enclosed reply form and send it to us: for example to offer to pay in "
    "instalments, to tell us you need more time to get debt advice, or to tell us you "
    "dispute the debt.",
    "We have enclosed an information sheet and a reply form. Please read the information "
    "sheet: it explains what this letter means and where you can get help. If you need more "
    "time to get advice, say so on the reply form and we will give you reasonable time to get "
    "it before we take any further step.",
    "If we do not hear from you by {respond_by_date}, we may start court proceedings against "
    "you without writing to you again. A county court judgment could make it harder for you "
    "to get credit.",
    HOW_TO_PAY_EN,
    "How to contact us\n"
    "Phone: {council_phone}\n"
    "Email: {council_email}\n"
    "Post: send the reply form to {council_name} at the address at the top of this letter.",
    CANNOT_PAY_EN,
    ADVICE_EN,
    SIGN_OFF_EN,
)
LETTER_OF_CLAIM_CY = _join(
    "Annwyl {debtor_name},",
    "Llythyr Hawlio",
    "Rydym yn ysgrifennu atoch o dan y Protocol Cyn Cychwyn Achos ar gyfer Hawliadau Dyled "
    "(Pre-Action Protocol for Debt Claims). Mae arnoch {amount_due} i {council_name} ar gyfer "
    "{department_name}. Rydym wedi ysgrifennu atoch am hyn o'r blaen ac nid yw wedi cael ei "
    "dalu.",
    INVOICES_CY + "\nCyfeirnod y cyfrif: {account_reference}",
    "Y swm sy'n ddyledus: {amount_due}. Dyma'r hyn sydd arnoch heddiw. Nid ydym yn ychwanegu "
    "llog na thaliadau eraill ato ar hyn o bryd. Os bydd yn rhaid i ni fynd i'r llys, byddwn "
    "yn gofyn i'r llys ychwanegu ffioedd llys, ac efallai y byddwn yn gofyn iddo ychwanegu "
    "llog.",
    "Beth sydd angen i chi ei wneud\n"
    "Atebwch o fewn 30 diwrnod i ddyddiad y llythyr hwn, erbyn {respond_by_date}. Gallwch:\n"
    "- dalu {amount_due} yn llawn, neu\n"
    "- llenwi'r ffurflen ymateb amgaeedig a'i hanfon atom: er enghraifft i gynnig talu fesul "
    "rhandaliad, i ddweud wrthym fod angen mwy o amser arnoch i gael cyngor ar ddyledion, neu "
    "i ddweud wrthym eich bod yn anghytuno â'r ddyled.",
    "Rydym wedi amgáu taflen wybodaeth a ffurflen ymateb. Darllenwch y daflen wybodaeth: mae'n "
    "egluro beth mae'r llythyr hwn yn ei olygu a ble gallwch gael help. Os oes angen mwy o "
    "amser arnoch i gael cyngor, dywedwch hynny ar y ffurflen ymateb a byddwn yn rhoi amser "
    "rhesymol i chi ei gael cyn i ni gymryd unrhyw gam arall.",
    "Os na fyddwn yn clywed gennych erbyn {respond_by_date}, efallai y byddwn yn dechrau achos "
    "llys yn eich erbyn heb ysgrifennu atoch eto. Gallai dyfarniad llys sirol ei gwneud yn "
    "anoddach i chi gael credyd.",
    HOW_TO_PAY_CY,
    "Sut i gysylltu â ni\n"
    "Ffôn: {council_phone}\n"
    "E-bost: {council_email}\n"
    "Post: anfonwch y ffurflen ymateb at {council_name} i'r cyfeiriad ar frig y llythyr hwn.",
    CANNOT_PAY_CY,
    ADVICE_CY,
    SIGN_OFF_CY,
)

# --- sent by an officer from the case --------------------------------------------------------
# The officer's own words (if any) are added by the sender (shared/services/messages/
# officer_sent.py), so these say only what every such message says.

GENERAL_EN = _join(
    "Dear {debtor_name},",
    "I am writing to you about your account {account_reference} with {council_name}.",
    "If you have any questions, please call us on {council_phone} or email {council_email}, "
    "quoting your account reference.",
    "Yours sincerely,\n\n{officer_name}\nIncome Recovery Team\n{council_name}",
)
GENERAL_CY = _join(
    "Annwyl {debtor_name},",
    "Rwy'n ysgrifennu atoch am eich cyfrif {account_reference} gyda {council_name}.",
    "Os oes gennych unrhyw gwestiynau, ffoniwch ni ar {council_phone} neu anfonwch e-bost at "
    "{council_email}, gan nodi cyfeirnod eich cyfrif.",
    "Yn gywir,\n\n{officer_name}\nTîm Adennill Incwm\n{council_name}",
)


def _payment_reminder_en(this: str) -> str:
    return _join(
        "Dear {debtor_name},",
        "This is a reminder that your account {account_reference} with {council_name} has "
        "{account_balance} to pay.",
        f"If you have paid in the last few days, thank you, and please ignore this {this}.",
        HOW_TO_PAY_EN,
        CANNOT_PAY_EN,
        ADVICE_EN,
        "Yours sincerely,\n\n{officer_name}\nIncome Recovery Team\n{council_name}",
    )


def _payment_reminder_cy(this: str) -> str:
    return _join(
        "Annwyl {debtor_name},",
        "Dyma nodyn i'ch atgoffa bod {account_balance} i'w dalu ar eich cyfrif "
        "{account_reference} gyda {council_name}.",
        f"Os ydych wedi talu yn ystod y dyddiau diwethaf, diolch, ac anwybyddwch {this}.",
        HOW_TO_PAY_CY,
        CANNOT_PAY_CY,
        ADVICE_CY,
        "Yn gywir,\n\n{officer_name}\nTîm Adennill Incwm\n{council_name}",
    )


_LETTER_EN, _EMAIL_EN = "letter", "email"
_LETTER_CY, _EMAIL_CY = "y llythyr hwn", "yr e-bost hwn"


def _written(key, language, name, subject, letter, email=None) -> tuple[DefaultTemplate, ...]:
    """A letter and an email of the same words (unless the email's are given)."""
    return (
        DefaultTemplate(key, LETTER, language, name, subject, letter),
        DefaultTemplate(key, EMAIL, language, name, subject, email or letter),
    )


def _text(key, language, name, body) -> DefaultTemplate:
    return DefaultTemplate(key, SMS, language, name, None, body)


DEFAULT_TEMPLATES: tuple[DefaultTemplate, ...] = (
    # Reminder: the first, gentle step.
    *_written(
        "dunning.reminder",
        EN,
        "Reminder",
        "Payment reminder for account {account_reference}",
        _reminder_en(_LETTER_EN),
        _reminder_en(_EMAIL_EN),
    ),
    _text(
        "dunning.reminder",
        EN,
        "Reminder",
        "{council_name}: your account {account_reference} is overdue. Pay at {portal_url} "
        "or call {council_phone}. Can't pay? Call us, we can help.",
    ),
    *_written(
        "dunning.reminder",
        CY,
        "Nodyn atgoffa",
        "Nodyn atgoffa am daliad ar gyfer cyfrif {account_reference}",
        _reminder_cy(_LETTER_CY),
        _reminder_cy(_EMAIL_CY),
    ),
    _text(
        "dunning.reminder",
        CY,
        "Nodyn atgoffa",
        "{council_name}: mae eich cyfrif {account_reference} yn hwyr. Talwch yn {portal_url} "
        "neu ffoniwch {council_phone}. Methu talu? Ffoniwch ni, gallwn helpu.",
    ),
    # Final demand.
    *_written(
        "dunning.final_demand",
        EN,
        "Final demand",
        "Final demand for account {account_reference}",
        FINAL_DEMAND_EN,
    ),
    _text(
        "dunning.final_demand",
        EN,
        "Final demand",
        "{council_name}: final demand for account {account_reference}. Please pay by "
        "{pay_by_date} at {portal_url} or call us on {council_phone}.",
    ),
    *_written(
        "dunning.final_demand",
        CY,
        "Galwad derfynol",
        "Galwad derfynol am daliad ar gyfer cyfrif {account_reference}",
        FINAL_DEMAND_CY,
    ),
    _text(
        "dunning.final_demand",
        CY,
        "Galwad derfynol",
        "{council_name}: galwad derfynol am gyfrif {account_reference}. Talwch erbyn "
        "{pay_by_date} yn {portal_url} neu ffoniwch ni ar {council_phone}.",
    ),
    # Letter before action, for organisations (a person gets the Letter of Claim).
    *_written(
        "dunning.pre_action",
        EN,
        "Letter before action (organisations)",
        "Letter before action: account {account_reference}",
        PRE_ACTION_EN,
    ),
    *_written(
        "dunning.pre_action",
        CY,
        "Llythyr cyn cymryd camau (sefydliadau)",
        "Llythyr cyn cymryd camau cyfreithiol: cyfrif {account_reference}",
        PRE_ACTION_CY,
    ),
    # Letter of Claim: by post only, with the information sheet and reply form.
    DefaultTemplate(
        "letter_of_claim",
        LETTER,
        EN,
        "Letter of Claim (individuals and sole traders)",
        "Letter of Claim: {amount_due} owed to {council_name}",
        LETTER_OF_CLAIM_EN,
    ),
    DefaultTemplate(
        "letter_of_claim",
        LETTER,
        CY,
        "Llythyr Hawlio (unigolion ac unig fasnachwyr)",
        "Llythyr Hawlio: {amount_due} sy'n ddyledus i {council_name}",
        LETTER_OF_CLAIM_CY,
    ),
    # Sent by an officer from the case.
    DefaultTemplate(
        "officer.general_letter",
        LETTER,
        EN,
        "General letter",
        "Your account {account_reference}",
        GENERAL_EN,
    ),
    DefaultTemplate(
        "officer.general_letter",
        LETTER,
        CY,
        "Llythyr cyffredinol",
        "Eich cyfrif {account_reference}",
        GENERAL_CY,
    ),
    DefaultTemplate(
        "officer.general_email",
        EMAIL,
        EN,
        "General email",
        "Your account {account_reference}",
        GENERAL_EN,
    ),
    DefaultTemplate(
        "officer.general_email",
        EMAIL,
        CY,
        "E-bost cyffredinol",
        "Eich cyfrif {account_reference}",
        GENERAL_CY,
    ),
    _text(
        "officer.general_sms",
        EN,
        "General text",
        "{council_name}: {officer_name} would like to talk to you about your account "
        "{account_reference}. Please call {council_phone}.",
    ),
    _text(
        "officer.general_sms",
        CY,
        "Neges destun gyffredinol",
        "{council_name}: hoffai {officer_name} siarad â chi am eich cyfrif "
        "{account_reference}. Ffoniwch {council_phone}, os gwelwch yn dda.",
    ),
    *_written(
        "officer.payment_reminder",
        EN,
        "Payment reminder from an officer",
        "Reminder: account {account_reference}",
        _payment_reminder_en(_LETTER_EN),
        _payment_reminder_en(_EMAIL_EN),
    ),
    _text(
        "officer.payment_reminder",
        EN,
        "Payment reminder from an officer",
        "{council_name}: a reminder to pay your account {account_reference} at {portal_url} "
        "or call {council_phone}. Thank you.",
    ),
    *_written(
        "officer.payment_reminder",
        CY,
        "Nodyn atgoffa gan swyddog",
        "Nodyn atgoffa: cyfrif {account_reference}",
        _payment_reminder_cy(_LETTER_CY),
        _payment_reminder_cy(_EMAIL_CY),
    ),
    _text(
        "officer.payment_reminder",
        CY,
        "Nodyn atgoffa gan swyddog",
        "{council_name}: nodyn i'ch atgoffa i dalu eich cyfrif {account_reference} yn "
        "{portal_url} neu ffoniwch {council_phone}. Diolch.",
    ),
)
