from __future__ import annotations

import pytest
from werkzeug.security import generate_password_hash

from shared.models import StaffRole, StaffUser
from tests.views.pages import csrf_token

STAFF_EMAIL = "Sam.Officer@borsetshire.example"
STAFF_PASSWORD = "correct horse battery staple"


@pytest.fixture
def staff_user(db) -> StaffUser:
    user = StaffUser(
        email=STAFF_EMAIL,
        full_name="Sam Officer",
        role=StaffRole.OFFICER,
        password_hash=generate_password_hash(STAFF_PASSWORD),
    )
    db.session.add(user)
    db.session.commit()
    return user


@pytest.fixture
def sign_in(client):
    """Submit the back-office sign-in form as a person would, CSRF token and all."""

    def submit(email: str, password: str):
        token = csrf_token(client, "/backoffice/sign-in")
        return client.post(
            "/backoffice/sign-in",
            data={"csrf_token": token, "email": email, "password": password},
        )

    return submit
