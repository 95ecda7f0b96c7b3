"""One expense flowing through every service, as a user would drive it: only through the gateway."""

import email
import email.policy
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tallystack.polling import eventually, settled
from tallystack.stack import Stack

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"
# One day for the whole module, on the services' clock (households keep UTC unless told otherwise):
# expenses are booked on it, the budget holds from its month and every read names that month, so a run
# that passes midnight at a month's end still reads the month it wrote.
TODAY = datetime.now(UTC).date()
MONTH = TODAY.strftime("%Y-%m")


def sign_up(client: httpx.Client, email: str, name: str) -> dict[str, str]:
    r = client.post("/api/auth/register", json={"email": email, "password": PASSWORD, "display_name": name})
    assert r.status_code == 201, r.text
    r = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def category_id(client: httpx.Client, auth: dict[str, str], name: str) -> str:
    def probe() -> str | None:
        items = client.get("/api/ledger/categories", headers=auth).json().get("items", [])
        return next((c["id"] for c in items if c["name"] == name), None)

    return eventually(probe, f"default category {name}")


def expense(client: httpx.Client, auth: dict[str, str], account: str, category: str, minor: int) -> None:
    r = client.post(
        "/api/ledger/transactions",
        headers=auth,
        json={
            "account_id": account,
            "kind": "expense",
            "amount_minor": minor,
            "category_id": category,
            "payee": "Corner shop",
            "booked_on": TODAY.isoformat(),
        },
    )
    assert r.status_code == 201, r.text


def budget_spent(client: httpx.Client, auth: dict[str, str]) -> int:
    items = client.get("/api/budget/budgets", params={"month": MONTH}, headers=auth).json()["items"]
    return int(items[0]["spent_minor"]) if items else -1


ACCOUNT_MAIL_SUBJECT = "Subject: Confirm your email address for Tally"


def all_emails(stack: Stack) -> list[Any]:
    return sorted(stack.mail_dir.glob("*.eml")) if stack.mail_dir.exists() else []


def emails(stack: Stack) -> list[Any]:
    """Ada's budget alert mails (every sign-up also mails an email-verification link, and the other
    end-to-end tests on this stack mail other people)."""
    texts = {p: p.read_text(errors="replace") for p in all_emails(stack)}
    to_ada = {p: text for p, text in texts.items() if "To: ada@example.com" in text}
    return [p for p, text in to_ada.items() if ACCOUNT_MAIL_SUBJECT not in text]


def verification_link(stack: Stack, address: str) -> str | None:
    for path in all_emails(stack):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address and message["Subject"] == ACCOUNT_MAIL_SUBJECT.removeprefix("Subject: "):
            body = message.get_body(("plain",))
            assert body is not None
            found = re.search(r"#/verify\?token=([\w-]+)", body.get_content())
            return found.group(1) if found else None
    return None


def test_an_expense_reaches_every_service(stack: Stack) -> None:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        ada = sign_up(client, "ada@example.com", "Ada")
        groceries = category_id(client, ada, "Groceries")

        r = client.post(
            "/api/ledger/accounts",
            headers=ada,
            json={
                "name": "Checking",
                "kind": "checking",
                "currency": "EUR",
                "opening_balance_minor": 100_000,
            },
        )
        assert r.status_code == 201, r.text
        account = r.json()["id"]

        r = eventually(
            lambda: (
                (
                    resp := client.post(
                        "/api/budget/budgets",
                        headers=ada,
                        json={
                            "category_id": groceries,
                            "amount_minor": 10_000,
                            "currency": "EUR",
                            "effective_from": TODAY.isoformat(),
                        },
                    )
                ).status_code
                == 201
                and resp
            ),
            "the budget service to know Groceries",
        )

        expense(client, ada, account, groceries, 5_000)  # 50 %
        eventually(lambda: budget_spent(client, ada) == 5_000, "spent 50.00")
        settled(stack)  # an alert mail the 50 % wrongly caused would be in the sink now
        assert emails(stack) == []
        expense(client, ada, account, groceries, 3_500)  # 85 %: the 80 % alert
        eventually(lambda: len(emails(stack)) == 1, "the 80 % email")
        expense(client, ada, account, groceries, 2_000)  # 105 %: exceeded
        eventually(lambda: len(emails(stack)) == 2, "the 100 % email")
        expense(client, ada, account, groceries, 500)  # still over: no third email
        eventually(lambda: budget_spent(client, ada) == 11_000, "spent 110.00")
        settled(stack)  # a third mail, had the 110 % caused one, would be in the sink now
        assert len(emails(stack)) == 2
        assert stack.mail is not None
        to_ada = [m for m in stack.mail.messages if "ada@example.com" in str(m["To"])]
        subjects = [m["Subject"] for m in to_ada if "Groceries" in m["Subject"]]
        assert len(subjects) == 2, subjects

        feed = eventually(
            lambda: (
                (b := client.get("/api/notifier/notifications", headers=ada).json())
                and len(b["items"]) == 2
                and b
            ),
            "two in-app notifications",
        )
        assert feed["unread"] == 2

        # The sign-up's verification link, mailed by the notifier, confirms the address through the gateway.
        token = eventually(lambda: verification_link(stack, "ada@example.com"), "the verification email")
        assert client.post("/api/auth/verify-email", json={"token": token}).status_code == 204
        assert client.get("/api/auth/me", headers=ada).json()["email_verified"] is True

        report = eventually(
            lambda: (
                (
                    b := client.get(
                        "/api/analytics/reports/monthly", params={"month": MONTH}, headers=ada
                    ).json()
                )
                and b["totals"]
                and b["totals"][0]["expense_minor"] == 11_000
                and b
            ),
            "the month's total",
        )
        assert report["totals"] == [
            {"currency": "EUR", "income_minor": 0, "expense_minor": 11_000, "net_minor": -11_000}
        ]
        assert [c["category_name"] for c in report["by_category"]] == ["Groceries"]

        balance = client.get(f"/api/ledger/accounts/{account}", headers=ada).json()["balance_minor"]
        assert balance == 100_000 - 11_000


def test_bad_input_through_the_gateway_gets_problems_and_changes_nothing(stack: Stack) -> None:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        ada = sign_up(client, "ada2@example.com", "Ada")
        bob = sign_up(client, "bob@example.com", "Bob")
        r = client.post(
            "/api/ledger/accounts",
            headers=ada,
            json={"name": "Savings", "kind": "savings", "currency": "EUR", "opening_balance_minor": 5_000},
        )
        account = r.json()["id"]

        def problem(response: httpx.Response, status: int) -> None:
            assert response.status_code == status, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["status"] == status

        problem(client.get("/api/nowhere/at/all", headers=ada), 404)
        problem(
            client.post(
                "/api/ledger/accounts",
                headers={**ada, "content-type": "application/json"},
                content=b'{"name": "x",',
            ),
            400,
        )
        problem(
            client.post(
                "/api/ledger/accounts",
                json={"name": "x", "kind": "checking", "currency": "EUR", "opening_balance_minor": 1.5},
                headers=ada,
            ),
            422,
        )
        problem(client.get("/api/ledger/accounts"), 401)
        token = ada["Authorization"]
        problem(client.get("/api/ledger/accounts", headers={"Authorization": token[:-3] + "abc"}), 401)
        # Bob's household cannot see or touch Ada's account.
        problem(client.get(f"/api/ledger/accounts/{account}", headers=bob), 404)
        problem(
            client.post(
                "/api/ledger/transactions",
                headers=bob,
                json={"account_id": account, "kind": "expense", "amount_minor": 100},
            ),
            404,
        )
        assert client.get("/api/ledger/accounts", headers=bob).json()["items"] == []
        assert client.get(f"/api/ledger/accounts/{account}", headers=ada).json()["balance_minor"] == 5_000

        # Two edits at the same version: one wins, the other gets 409.
        a = client.patch(
            f"/api/ledger/accounts/{account}", headers=ada, json={"name": "A", "expected_version": 1}
        )
        b = client.patch(
            f"/api/ledger/accounts/{account}", headers=ada, json={"name": "B", "expected_version": 1}
        )
        assert a.status_code == 200
        problem(b, 409)
        assert client.get(f"/api/ledger/accounts/{account}", headers=ada).json()["name"] == "A"


def test_nothing_is_lost_or_repeated_across_a_restart(stack: Stack) -> None:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        carol = sign_up(client, "carol@example.com", "Carol")
        groceries = category_id(client, carol, "Groceries")
        account = client.post(
            "/api/ledger/accounts",
            headers=carol,
            json={"name": "Cash", "kind": "cash", "currency": "EUR", "opening_balance_minor": 0},
        ).json()["id"]
        expense(client, carol, account, groceries, 1_234)
    mails_before = len(emails(stack))

    stack.restart()  # every process stops; the in-memory broker comes back empty
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        r = client.post("/api/auth/login", json={"email": "carol@example.com", "password": PASSWORD})
        carol = {"Authorization": f"Bearer {r.json()['access_token']}"}
        expense(client, carol, account, groceries, 766)

        def total() -> int:
            body = client.get("/api/analytics/reports/monthly", params={"month": MONTH}, headers=carol).json()
            return int(body["totals"][0]["expense_minor"]) if body["totals"] else 0

        # After the restart every relay re-publishes what some consumer had not applied (here: the events
        # since its last settled mark); inboxes drop what a consumer already had.
        eventually(lambda: total() == 2_000, "analytics to count both expenses exactly once", 90)
        assert client.get(f"/api/ledger/accounts/{account}", headers=carol).json()["balance_minor"] == -2_000
        settled(stack)  # every re-published event read again, every mail due sent
        assert len(emails(stack)) == mails_before  # replayed budget alerts are not mailed again
        assert total() == 2_000
