"""A production environment that passes every start-up check: each test of a
refusal changes one setting of it, so the refusal it sees is that setting's."""

from __future__ import annotations

from cryptography.fernet import Fernet

PRODUCTION_ENVIRON: dict[str, str] = {
    "APP_ENV": "production",
    "SECRET_KEY": "p" * 40,
    "TOTP_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "DATABASE_URL": "postgresql://recovery@db.internal:5432/recovery",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "PUBLIC_BASE_URL": "https://pay.example.gov.uk",
    "COUNCIL_NAME": "Ambridge District Council",
    "COUNCIL_PHONE": "01632 960000",
    "COUNCIL_EMAIL": "recovery@example.gov.uk",
    "MAIL_FROM": "Ambridge Income Recovery <no-reply@example.gov.uk>",
    "COUNCIL_ADDRESS": "Council Offices|Ambridge|AM1 1AA",
    "COUNCIL_VAT_NUMBER": "GB123456789",
    "COUNCIL_BANK_ACCOUNT_NAME": "Ambridge District Council",
    "COUNCIL_BANK_SORT_CODE": "20-00-00",
    "COUNCIL_BANK_ACCOUNT_NUMBER": "12345678",
    "GL_DEBTORS_CONTROL_CODE": "1100-SD",
    "GL_VAT_OUTPUT_CODE": "2200-VO",
    "GL_BANK_CODE": "1000-BK",
    "GL_CARD_CLEARING_CODE": "1010-CC",
    "GL_DIRECT_DEBIT_CLEARING_CODE": "1020-DD",
    "GL_WRITE_OFF_CODE": "6900-BD",
    "GL_SUSPENSE_CODE": "9999-SU",
    "STRIPE_SECRET_KEY": "sk_live_" + "k" * 24,
    "STRIPE_WEBHOOK_SECRET": "whsec_" + "w" * 32,
    "STRIPE_API_BASE": "",
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "t" * 32,
    "TWILIO_FROM_NUMBER": "AMBRIDGE",
    "TWILIO_API_BASE": "",
    "SMTP_HOST": "smtp.example.gov.uk",
    "SMTP_PORT": "587",
    "BACS_SERVICE_USER_NUMBER": "434343",
    "BACS_SERVICE_USER_NAME": "AMBRIDGE DC",
    "BACS_SORT_CODE": "30-99-50",
    "BACS_ACCOUNT_NUMBER": "11223344",
    "BACS_ACCOUNT_NAME": "AMBRIDGE DC DD",
    "BANK_DETAILS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
}
