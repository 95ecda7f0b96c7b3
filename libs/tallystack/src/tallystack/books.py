"""A household's ledger as tests of imports read it through the ledger's HTTP API: balances by account
name, and the total per category per month, in the terms other apps' own figures are kept in."""

from typing import Any

import httpx


class Books:
    """What a household's ledger shows through the API, in the terms histories are checked in: balances
    by account name, and the total per category per month."""

    def __init__(self, ledger: httpx.AsyncClient) -> None:
        self.ledger = ledger

    async def transactions(self, headers: dict[str, str]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 500} | ({"cursor": cursor} if cursor else {})
            page = (await self.ledger.get("/transactions", params=params, headers=headers)).json()
            items += page["items"]
            if not (cursor := page["next_cursor"]):
                return items

    async def accounts(self, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
        response = await self.ledger.get("/accounts", params={"include_archived": True}, headers=headers)
        return {a["name"]: a for a in response.json()["items"]}

    async def balances(self, headers: dict[str, str]) -> dict[str, int]:
        return {name: a["balance_minor"] for name, a in (await self.accounts(headers)).items()}

    async def category_months(self, headers: dict[str, str]) -> dict[str, dict[str, int]]:
        """Income adds, spending takes away (a refund, an income on an expense category, adds back), a
        split counts each part on its category, transfers count nowhere (and carry no category)."""
        names = {c["id"]: c["name"] for c in (await self.ledger.get(
            "/categories", params={"include_archived": True}, headers=headers)).json()["items"]}
        totals: dict[str, dict[str, int]] = {}
        for t in await self.transactions(headers):
            if t["kind"] == "transfer":
                assert t["category_id"] is None
                assert not t["splits"]
                continue
            sign = 1 if t["kind"] == "income" else -1
            parts = [(s["category_id"], s["amount_minor"]) for s in t["splits"]] or \
                [(t["category_id"], t["amount_minor"])]
            for category_id, amount in parts:
                if category_id is not None:
                    months = totals.setdefault(names[category_id], {})
                    months[t["booked_on"][:7]] = months.get(t["booked_on"][:7], 0) + sign * amount
        return totals

    async def category_kinds(self, headers: dict[str, str]) -> dict[str, str]:
        response = await self.ledger.get("/categories", params={"include_archived": True}, headers=headers)
        return {c["name"]: c["kind"] for c in response.json()["items"]}
